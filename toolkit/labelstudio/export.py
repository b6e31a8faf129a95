"""Label Studio JSON exports: downloaded as a stream (a body that ends early is refused) and
read back one task at a time (never loaded whole)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ijson

from toolkit.crashpoints import crashpoint
from toolkit.errors import InputError
from toolkit.labelstudio.pages import download_paged_export
from toolkit.labelstudio.retry import NO_RETRY, IncompleteDownload, RetryPolicy, with_retries

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


def json_document_problem(path: Path) -> str | None:
    """Why ``path`` is not one complete JSON document (None when it is). Streams the file, so
    a cut-off download is told apart from a complete one without loading it."""

    try:
        with path.open("rb") as handle:
            for _ in ijson.parse(handle):
                pass
    except ijson.IncompleteJSONError as exc:
        return f"the JSON ends early ({exc})"
    except ijson.JSONError as exc:
        return f"invalid JSON ({exc})"
    except OSError as exc:
        return f"cannot read it ({exc.strerror})"
    if path.stat().st_size == 0:
        return "it is empty"
    return None


def download_project_export(
    client: LabelStudio,
    project_id: int,
    dest: Path,
    policy: RetryPolicy | None = None,
    *,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> Path:
    """Download the project's annotated tasks as a Label Studio JSON export into ``dest``.

    The download is streamed to the file and retried from scratch after a transient failure;
    a body that is not one complete JSON document (a cut connection, a proxy's error page with
    status 200) counts as one. After the last attempt it raises :class:`LabelStudioError`;
    ``dest`` then holds nothing usable and the caller must not use it."""

    def attempt() -> Path:
        with dest.open("wb") as handle:
            for chunk in client.projects.exports.download_sync(
                id=project_id,
                export_type="JSON",
                download_all_tasks=False,
                request_options=NO_RETRY,
            ):
                handle.write(chunk)
        problem = json_document_problem(dest)
        if problem is not None:
            dest.write_bytes(b"")
            raise IncompleteDownload(f"the export of project {project_id} is incomplete: {problem}")
        return dest

    return with_retries(
        f"downloading the export of project {project_id}", attempt, policy, on_retry=on_retry
    )


def iter_export(path: str | Path) -> Iterator[dict]:
    """Stream the tasks of a Label Studio JSON export file (a top-level array)."""

    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot open export ({exc.strerror})") from None
    with handle:
        first = handle.read(1)
        while first and first.isspace():
            first = handle.read(1)
        handle.seek(0)
        if first != b"[":
            what = "an empty file" if not first else f"a file starting with {first!r}"
            raise InputError(
                f"{path}: not a Label Studio JSON export (expected a JSON array of tasks, "
                f"got {what}); export the project as JSON"
            )
        index = 0
        try:
            for index, task in enumerate(ijson.items(handle, "item", use_float=True), 1):
                if not isinstance(task, dict):
                    raise InputError(f"{path}: item {index} is not a task object")
                yield task
        except ijson.JSONError as exc:
            raise InputError(
                f"{path}: invalid JSON after task {index} ({exc}); re-export the project"
            ) from None


def download_export(client: Any, project_id: int, dest: Path) -> Path:
    """Download the project's annotated tasks as Label Studio JSON into ``dest``, in pages
    (:mod:`toolkit.labelstudio.pages`: no request lasts longer than one page).

    Each page is retried with backoff on transient failures (it is idempotent); a page cut
    short is a failure, never a smaller dataset.
    """
    download_paged_export(client, project_id, dest, RetryPolicy.from_env())
    crashpoint("pull.downloaded")
    return dest


def temp_export_path() -> Path:
    handle = tempfile.NamedTemporaryFile(prefix="toolkit-export-", suffix=".json", delete=False)
    handle.close()
    return Path(handle.name)
