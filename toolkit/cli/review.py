"""`toolkit review` commands: disagreements reviewed in a Label Studio review project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import connection_options, exports_dir_option, quiet_option, schema_option
from toolkit.schema import load_schema


@click.group()
def review() -> None:
    """Review disagreements in a Label Studio project; decisions come back with pull.

    \b
    Example:
      toolkit review push --project "News demo" --dataset news-demo
      (the reviewer submits each review task in Label Studio)
      toolkit pull --project "News demo" --dataset news-demo
    """


@review.command("push")
@click.option("--project", "project_ref", required=True, help="Source project (title or id).")
@click.option("--dataset", required=True, help="Dataset name (its versions under --exports-dir).")
@click.option("--version", help="Version whose items need review (default: the latest).")
@click.option(
    "--review-project",
    "review_project",
    help='Title of the review project (default: "<project title> (review)").',
)
@exports_dir_option
@schema_option
@quiet_option
@connection_options
def push_command(
    project_ref: str,
    dataset: str,
    version: str | None,
    review_project: str | None,
    exports_dir: Path,
    schema_path: Path,
    quiet: bool,
    server: Any,
) -> None:
    """Send the items a version lists in needs_review to the review project.

    Each becomes one review task with the article, its source task id and every annotator's
    version as a prediction (model version = the annotator's pseudonym). Running it again
    sends nothing twice; items already decided, skipped or still open are not re-sent. The
    next `toolkit pull --project P` takes the submitted decisions.

    \b
    Example:
      toolkit review push --project "News demo" --dataset news-demo
      toolkit review push --project 3 --dataset news --version 0.2.0 --review-project "News QA"
    """
    from toolkit.progress import progress_for
    from toolkit.review.tasks import push_review

    with progress_for("review push", "review tasks imported", quiet=quiet) as progress:
        result = push_review(
            server.client(),
            project_ref,
            load_schema(schema_path),
            dataset,
            version=version,
            exports_dir=exports_dir,
            title=review_project,
            progress=progress,
        )
    click.echo(result.summary())


@review.command("guidelines")
@schema_option
@click.option("--html", is_flag=True, help="HTML, as shown in the review project.")
def guidelines_command(schema_path: Path, html: bool) -> None:
    """Print the review guidelines generated from the schema (Markdown).

    \b
    Example:
      toolkit review guidelines > review-guidelines.md
    """
    from toolkit.review.guidelines import review_guidelines

    click.echo(review_guidelines(load_schema(schema_path), html=html), nl=False)


COMMANDS = [review]
