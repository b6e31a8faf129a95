"""Progress of long commands: library functions report, only the command line displays.

Library code takes a :class:`Progress` (default: :data:`SILENT`) and calls
:meth:`~Progress.total` when it learns how many items there are and
:meth:`~Progress.advance` as items are done; it never prints. The CLI makes one with
:func:`progress_for`, which always writes to **stderr** (stdout may carry data):

- stderr is a terminal: a tqdm bar with items done, rate and, when the total is known, the
  time left, redrawn a few times a second and cleared at the end;
- stderr is a pipe or a file: one summary line at the end (``pull: 50000 tasks in 103.2 s,
  485/s``), never a bar;
- ``--quiet``: nothing at all.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import IO, Any


class Progress:
    """What a library function reports to; this base reports nowhere."""

    def total(self, n: int | None) -> None:
        """The number of items, once known (None: unknown)."""

    def advance(self, n: int = 1) -> None:
        """``n`` more items are done."""

    def close(self, failed: bool = False) -> None:
        """The work is over; ``failed``: it stopped on an error (no summary then: the error
        is what the user needs to see)."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self.close(failed=exc_type is not None)


SILENT = Progress()


class SummaryLine(Progress):
    """Counts items and writes one line when closed (for a pipe or a log file)."""

    def __init__(self, what: str, unit: str, stream: IO[str], clock: Any = time.monotonic) -> None:
        self.what, self.unit, self.stream, self.clock = what, unit, stream, clock
        self.done = 0
        self.expected: int | None = None
        self.started = clock()
        self.closed = False

    def total(self, n: int | None) -> None:
        self.expected = n

    def advance(self, n: int = 1) -> None:
        self.done += n

    def close(self, failed: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        if failed:
            return
        seconds = max(self.clock() - self.started, 1e-9)
        short = self.expected is not None and self.expected != self.done
        of = f" of {self.expected}" if short else ""
        self.stream.write(
            f"{self.what}: {self.done}{of} {self.unit} in {seconds:.1f} s, "
            f"{self.done / seconds:.0f}/s\n"
        )
        self.stream.flush()


class Bar(Progress):
    """A tqdm bar on a terminal: items done, rate, time left when the total is known."""

    def __init__(self, what: str, unit: str, stream: IO[str]) -> None:
        from tqdm import tqdm

        sized = _columns(stream) > 0  # a terminal without a size would get an empty bar
        self.bar = tqdm(
            desc=what,
            unit=unit,
            bar_format=f"{{desc}}: {{n_fmt}} {unit} [{{elapsed}}, {{rate_fmt}}]",
            file=stream,
            dynamic_ncols=sized,
            ncols=None if sized else 80,
            mininterval=0.2,
            leave=False,
        )
        self.what, self.unit, self.stream = what, unit, stream

    def total(self, n: int | None) -> None:
        self.bar.total = n
        if n is not None:
            self.bar.bar_format = None  # tqdm's own: percentage, bar, time left
        self.bar.refresh()

    def advance(self, n: int = 1) -> None:
        self.bar.update(n)

    def close(self, failed: bool = False) -> None:
        if self.bar.disable:  # closed already
            return
        done, seconds = self.bar.n, self.bar.format_dict["elapsed"]
        self.bar.close()
        if failed:
            return
        rate = done / seconds if seconds > 0 else 0.0
        self.stream.write(f"{self.what}: {done} {self.unit} in {seconds:.1f} s, {rate:.0f}/s\n")
        self.stream.flush()


def _columns(stream: IO[str]) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 0


def progress_for(
    what: str, unit: str = "items", *, quiet: bool = False, stream: IO[str] | None = None
) -> Progress:
    """The display for a command: a bar on a terminal, a summary line in a pipe, nothing with
    ``quiet``. Writes to ``stream`` (default: stderr), never to stdout."""
    if quiet:
        return SILENT
    stream = stream or sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return Bar(what, unit, stream)
    return SummaryLine(what, unit, stream)
