"""Publish a dataset version to a Hugging Face Hub dataset repository, one tag per version.

A version directory is already in Hub layout (the card's front matter lists the configs and
their Parquet files), so publishing is: make sure the repository exists
(``HfApi.create_repo(..., exist_ok=True)``), refuse if the tag exists (tags, like versions,
are never moved), upload the folder as one commit that also deletes every file of the
previous version the new one does not have (``upload_folder(..., delete_patterns="*")``; the
Hub keeps ``.gitattributes``), then tag that commit (``create_tag(tag, revision=commit)``).
``load_dataset(repo, revision="v0.2.0")`` then reads exactly the files of version 0.2.0, and
``manifest.json`` travels along so a download can be checked against its checksums.

:func:`plan_publish` works offline (the checks, the file list, the steps);
:func:`run_publish` needs the network and a token (``HF_TOKEN`` or ``huggingface-cli
login``), which is never printed or stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.dataset.version import MANIFEST, read_manifest, verify_version
from toolkit.errors import DatasetError

_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\Z")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")


@dataclass(slots=True)
class PublishPlan:
    """What :func:`run_publish` will do."""

    folder: Path
    repo: str
    tag: str
    name: str
    version: str
    content_sha256: str
    private: bool = False
    files: dict[str, int] = field(default_factory=dict)  # relative path -> bytes

    @property
    def commit_message(self) -> str:
        return f"{self.name} {self.version} (content sha256 {self.content_sha256[:12]})"

    def steps(self) -> list[str]:
        visibility = "private" if self.private else "public"
        return [
            f"create the dataset repository {self.repo} if missing ({visibility})",
            f"stop if tag {self.tag} already exists (tags are never moved)",
            f"upload {len(self.files)} files ({sum(self.files.values())} bytes) as one commit "
            f"'{self.commit_message}', deleting files of earlier versions not in this one",
            f"tag that commit {self.tag}",
            f'then: load_dataset("{self.repo}", revision="{self.tag}")',
        ]

    def render(self) -> str:
        lines = [f"Publish {self.folder} to {self.repo} as {self.tag}:"]
        lines += [f"  {i}. {step}" for i, step in enumerate(self.steps(), 1)]
        lines.append("Files:")
        lines += [f"  {rel}\t{size}" for rel, size in self.files.items()]
        return "\n".join(lines)


def plan_publish(
    folder: str | Path, repo: str, tag: str | None = None, private: bool = False
) -> PublishPlan:
    """Check a version and a target repository and list what publishing would do."""
    folder = Path(folder)
    if not isinstance(repo, str) or not _REPO.match(repo) or ".." in repo:
        raise DatasetError(
            f"repository {repo!r} is not a Hub repository id: use OWNER/NAME such as "
            "'my-org/news-demo'"
        )
    problems = verify_version(folder)
    if problems:
        raise DatasetError(
            f"{folder}: refusing to publish a version whose files do not match its manifest "
            f"({'; '.join(problems[:3])}); run `toolkit dataset verify {folder}`"
        )
    manifest = read_manifest(folder)
    version = str(manifest.get("version") or folder.name)
    tag = tag or f"v{version}"
    if not _TAG.match(tag):
        raise DatasetError(f"tag {tag!r} is invalid: use letters, digits, '.', '_' and '-'")
    files = {rel: int(meta["bytes"]) for rel, meta in sorted(manifest["files"].items())}
    files[MANIFEST] = (folder / MANIFEST).stat().st_size
    return PublishPlan(
        folder=folder,
        repo=repo,
        tag=tag,
        name=str(manifest.get("name", folder.parent.name)),
        version=version,
        content_sha256=str(manifest.get("content_sha256", "")),
        private=private,
        files=dict(sorted(files.items())),
    )


def run_publish(plan: PublishPlan, token: str | None = None, api: Any = None) -> str:
    """Carry out ``plan`` on the Hub; returns the tagged commit id. ``api``: an ``HfApi``
    (default: one with ``token``, else the locally saved login)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    api = api or HfApi(token=token)
    try:
        api.create_repo(plan.repo, repo_type="dataset", private=plan.private, exist_ok=True)
        refs = api.list_repo_refs(plan.repo, repo_type="dataset")
        if any(ref.name == plan.tag for ref in refs.tags):
            raise DatasetError(
                f"{plan.repo}: tag {plan.tag} already exists; a published version is never "
                "replaced (write a new version, or pass another --tag)"
            )
        info = api.upload_folder(
            repo_id=plan.repo,
            repo_type="dataset",
            folder_path=str(plan.folder),
            commit_message=plan.commit_message,
            delete_patterns="*",
        )
        api.create_tag(
            plan.repo,
            tag=plan.tag,
            revision=info.oid,
            repo_type="dataset",
            tag_message=plan.commit_message,
        )
    except OfflineModeIsEnabled:
        raise DatasetError(
            "the Hub is switched off here (HF_HUB_OFFLINE=1); unset it to publish, or use "
            "--dry-run to see the plan"
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise DatasetError(
            f"{plan.repo}: publishing failed ({type(exc).__name__}: {exc})"
        ) from None
    return str(info.oid)
