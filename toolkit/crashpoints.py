"""Test-only crash points, read from one environment variable and nowhere else.

``TOOLKIT_TEST_KILL_AFTER=<point>:<n>`` makes the process kill itself with SIGKILL (no
cleanup, no ``finally``: like a power cut or ``kill -9``) the ``n``-th time it reaches
``crashpoint("<point>")``. The reliability tests use it to prove that re-running a killed
``push`` or ``pull`` finishes the job without duplicates or half-written versions. Unset (the
normal case) it costs one environment lookup.

Points: ``push.import-sent`` (an import request returned, before it is counted),
``push.batch`` (a batch is done), ``pull.downloaded`` (the export is on disk),
``version.file`` (a file of a new version was written to its temporary directory),
``version.verified`` (the temporary directory is complete and verified, before the rename),
``version.renamed`` (right after the rename).
"""

from __future__ import annotations

import os
import signal

ENV = "TOOLKIT_TEST_KILL_AFTER"
_reached: dict[str, int] = {}


def crashpoint(name: str) -> None:
    """Die here with SIGKILL if ``TOOLKIT_TEST_KILL_AFTER`` asks for it."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, sep, count = spec.rpartition(":")
    if not sep:
        point, count = spec, "1"
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] >= int(count or 1):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
