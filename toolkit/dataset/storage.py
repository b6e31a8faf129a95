"""Durable files of dataset versions: the dataset lock, fsync'd new files, read-only
versions, scratch files and the removal of what crashed writers left behind."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from toolkit.crashpoints import crashpoint
from toolkit.dataset.version import LOCK, TMP_PREFIX, validate_name
from toolkit.errors import DatasetError
from toolkit.files import pid_alive

_STAGE = re.compile(rf"^{re.escape(TMP_PREFIX)}(\d+)-[0-9a-f]+(\.[a-z]+)?\Z")
_NOT_WRITABLE = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def stage_name(suffix: str = "") -> str:
    """The name of a staging directory or scratch file of this process (``.tmp-<pid>-<hex>``):
    :func:`clean_stale` removes it once the process is gone."""
    return f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{suffix}"


@contextmanager
def dataset_lock(folder: Path, timeout: float = 60.0) -> Iterator[None]:
    """Hold the lock of a dataset directory (``<name>/.lock``) that every writer of its
    versions takes; DatasetError after ``timeout`` seconds."""

    lock = FileLock(str(folder / LOCK), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise DatasetError(
            f"{folder}: another pull is writing this dataset (lock {folder / LOCK} held for "
            f"{timeout:g} s); wait for it to finish and run again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def write_new_file(path: Path, content: bytes) -> None:
    with open(path, "xb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    crashpoint("version.file")


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not supported (e.g. Windows); the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_file_read_only(path: Path) -> None:
    path.chmod(path.stat().st_mode & _NOT_WRITABLE)


def make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            make_file_read_only(path)


def scratch_file(exports_dir: str | Path, name: str, suffix: str) -> Path:
    """A path for a temporary file of a pull of dataset ``name`` (e.g. the downloaded export),
    next to its versions: if the process is killed, the next write of the dataset removes it.
    The caller removes it when done."""
    folder = Path(exports_dir) / validate_name(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot create the dataset directory ({exc})") from None
    return folder / stage_name(suffix)


def clean_stale(folder: Path, keep: Path) -> None:
    """Remove staging directories and scratch files of crashed pulls (the caller holds the
    lock); those of processes still running are left alone."""
    for child in folder.iterdir():
        if not child.name.startswith(TMP_PREFIX) or child == keep:
            continue
        match = _STAGE.match(child.name)
        if match and pid_alive(int(match[1])):
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
