"""One retry policy for every call to Label Studio, and clear errors for the ones that fail.

The SDK retries failed requests (POST included) on connection errors, 408, 409, 429 and 5xx,
but not timeouts. Calls that are not idempotent (imports, creations) pass
``request_options=NO_RETRY`` and, after an unknown outcome, look at the server before they try
again (push, project creation). Idempotent reads that must survive a flaky proxy go through
:func:`with_retries`. Every loop takes its tries from :meth:`RetryPolicy.tries`: at most
``attempts`` tries, with exponential backoff between them (``TOOLKIT_RETRIES``,
``TOOLKIT_BACKOFF``).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from label_studio_sdk.core.api_error import ApiError
from label_studio_sdk.core.parse_error import ParsingError

from toolkit.errors import LabelStudioError, ToolkitError
from toolkit.labelstudio.connection import ENV_API_KEY, safe_url

NO_RETRY: dict[str, Any] = {"max_retries": 0}
"""``request_options`` for non-idempotent calls: a retried POST can duplicate work."""


ENV_RETRIES = "TOOLKIT_RETRIES"


ENV_BACKOFF = "TOOLKIT_BACKOFF"


@dataclass(frozen=True)
class RetryPolicy:
    """How idempotent calls (and push's reconciled imports) are retried after a transient
    failure: at most ``attempts`` tries in all, pausing ``backoff`` seconds after the first
    failure and doubling each time, never more than ``max_delay``."""

    attempts: int = 6
    backoff: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.max_delay < 0:
            raise ToolkitError(
                f"retry settings are invalid (attempts={self.attempts}, backoff={self.backoff}): "
                "use at least 1 attempt and a non-negative backoff"
            )

    def delay(self, failures: int) -> float:
        """The pause after the ``failures``-th failure (1, 2, ...)."""
        return min(self.backoff * 2 ** (failures - 1), self.max_delay)

    def tries(self) -> Iterator[int]:
        """The numbers of the tries (1, 2, ... ``attempts``), pausing with the backoff before
        each try after the first. Every retry loop of the toolkit is ``for attempt in
        policy.tries(): ...`` (``break``/``return`` on success, ``continue`` after a failure
        that may go away)."""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.delay(attempt - 1))
            yield attempt

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, overridden by ``TOOLKIT_RETRIES`` (attempts) and ``TOOLKIT_BACKOFF``
        (seconds)."""
        attempts = env_number(ENV_RETRIES, int, cls.attempts)
        backoff = env_number(ENV_BACKOFF, float, cls.backoff)
        return cls(attempts=attempts, backoff=backoff)


def env_number(name: str, kind: type, default: Any) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ToolkitError(f"${name} is {raw!r}, not a number") from None


def error_detail(body: Any, limit: int = 300) -> str:
    """A short readable form of an error body from Label Studio."""
    if body is None or body == "":
        return "no details"
    if isinstance(body, dict):
        for key in ("detail", "validation_errors", "message", "error"):
            if body.get(key):
                value = body[key]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                break
        else:
            text = json.dumps(body, ensure_ascii=False)
    else:
        text = str(body)
        if text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
            return "an HTML page, not a Label Studio API answer"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def transport_reason(exc: BaseException) -> str:

    text = str(exc).lower()
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "nodename" in text or "resolv" in text or "getaddrinfo" in text:
        return "host name not found"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect" + (f": {exc}" if str(exc) else "")
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@contextlib.contextmanager
def api_errors(action: str, url: str | None = None) -> Iterator[None]:
    """Turn SDK and HTTP failures inside the block into :class:`LabelStudioError` naming the
    action, e.g. ``with api_errors("importing tasks into project 3"): ...``."""

    where = f" at {safe_url(url)}" if url else ""
    try:
        yield
    except ToolkitError:
        raise
    except ApiError as exc:
        code = exc.status_code
        if code in (401, 403):
            hint = f" Check {ENV_API_KEY} (and the user's permissions)."
        elif code == 404:
            hint = " (not found: was it deleted?)"
        elif code is not None and code >= 500:
            hint = " (a server error; see the Label Studio log)"
        else:
            hint = ""
        raise LabelStudioError(
            f"Label Studio{where} answered HTTP {code} while {action}: "
            f"{error_detail(exc.body)}.{hint}"
        ) from exc
    except httpx.TimeoutException as exc:
        raise LabelStudioError(
            f"Label Studio{where} did not answer in time while {action}; the outcome is unknown."
        ) from exc
    except httpx.HTTPError as exc:
        raise LabelStudioError(
            f"Lost the connection to Label Studio{where} while {action} "
            f"({transport_reason(exc)}). Is it running? Try `toolkit studio status`."
        ) from exc


def is_transient(exc: BaseException) -> bool:
    """True for a failure that may go away when the same request is sent again: a 5xx, 408 or
    429 answer, an answer that is not the JSON it should be (cut short, a proxy's page), a
    timeout, a refused or dropped connection. For a request that changes something, the
    outcome of such a failure is unknown: it may have been done."""

    if isinstance(exc, ApiError):
        code = exc.status_code
        return code is None or code < 400 or code >= 500 or code in (408, 429)
    return isinstance(
        exc,
        (IncompleteDownload, ParsingError, httpx.TransportError, ConnectionError, TimeoutError),
    )


def describe_failure(exc: BaseException) -> str:
    """A short description of a failed request, without credentials."""

    if isinstance(exc, ApiError):
        if exc.status_code is not None and exc.status_code < 400:
            return f"HTTP {exc.status_code} with an unreadable answer"
        return f"HTTP {exc.status_code}: {error_detail(exc.body, 200)}"
    if isinstance(exc, httpx.TransportError):
        return transport_reason(exc)
    return f"{type(exc).__name__}: {exc}"[:200]


def with_retries(
    action: str,
    fn: Callable[[], Any],
    policy: RetryPolicy | None = None,
    *,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> Any:
    """Call ``fn`` (an idempotent request: a read, a download) until it succeeds, retrying
    transient failures (:func:`is_transient`) with the policy's backoff. Anything else, or the
    last failure, becomes a :class:`LabelStudioError` naming ``action``."""
    policy = policy or RetryPolicy()
    for attempt in policy.tries():
        try:
            return fn()
        except ToolkitError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            if not is_transient(exc):
                with api_errors(action):
                    raise
                raise  # pragma: no cover - api_errors re-raises every SDK/HTTP error
            if attempt == policy.attempts:
                raise LabelStudioError(
                    f"Label Studio failed {attempt} times while {action} "
                    f"(last: {describe_failure(exc)}); nothing was changed by this step, run the "
                    "same command again when the server (or the network to it) is healthy"
                ) from None
            if on_retry is not None:
                on_retry(attempt, exc)
    raise AssertionError("unreachable")  # pragma: no cover


class IncompleteDownload(Exception):
    """The body of a download arrived but is not complete (cut short by a proxy)."""
