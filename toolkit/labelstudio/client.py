"""Connections to Label Studio and an SDK client with clear errors.

Where the connection comes from (:func:`resolve_connection`): explicit arguments, then the
environment (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``), then the local studio's
``connection.json`` (see :mod:`toolkit.labelstudio.server`).

Keys: both kinds work. A personal access token (a JWT refresh token, the default on Label Studio
1.23 and on hosted servers) is exchanged by the SDK at ``/api/token/refresh/`` for short-lived
access tokens sent as ``Bearer``; any other key is a legacy token sent as ``Token <key>`` (the
local studio uses one). The key is never part of a message, log line or ``repr``.

Retries: the SDK retries failed requests (POST included) on connection errors, 408, 409, 429 and
5xx, but not timeouts. Pass ``request_options=NO_RETRY`` to calls that are not idempotent
(imports, creations). Idempotent reads that must survive a flaky proxy go through
:func:`with_retries` (any transient failure, timeouts included, with exponential backoff and a
bounded number of attempts); :func:`download_project_export` does that for the export and
refuses a body that ends early.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import LabelStudioError, ToolkitError
from toolkit.labelstudio.server import CONNECTION_FILE, default_data_dir, read_connection_file

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"

NO_RETRY: dict[str, Any] = {"max_retries": 0}
"""``request_options`` for non-idempotent calls: a retried POST can duplicate work."""

CHECK_TIMEOUT = 15.0
"""Seconds the connection check in :func:`connect` waits for an answer."""

ENV_TIMEOUT = "TOOLKIT_HTTP_TIMEOUT"
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

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, overridden by ``TOOLKIT_RETRIES`` (attempts) and ``TOOLKIT_BACKOFF``
        (seconds)."""
        attempts = _env_number(ENV_RETRIES, int, cls.attempts)
        backoff = _env_number(ENV_BACKOFF, float, cls.backoff)
        return cls(attempts=attempts, backoff=backoff)


def _env_number(name: str, kind: type, default: Any) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ToolkitError(f"${name} is {raw!r}, not a number") from None


def env_timeout() -> float | None:
    """``TOOLKIT_HTTP_TIMEOUT`` (seconds per request), or None for the SDK's default (60 s)."""
    value = _env_number(ENV_TIMEOUT, float, None)
    if value is not None and value <= 0:
        raise ToolkitError(f"${ENV_TIMEOUT} must be a positive number of seconds")
    return value


@dataclass(frozen=True)
class Connection:
    """Where Label Studio is and the key to use; ``origin`` says where they came from.
    ``repr`` hides the key."""

    url: str
    api_key: str = field(repr=False)
    origin: str

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r}, api_key='***', origin={self.origin!r})"

    @property
    def safe_url(self) -> str:
        """The URL without user info, query or fragment (fit for messages)."""
        return safe_url(self.url)


def safe_url(url: str) -> str:
    """``url`` without credentials, query string or fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _normalise_url(url: str, source: str) -> str:
    url = url.strip().rstrip("/")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise LabelStudioError(
            f"The Label Studio URL from {source} is not an http(s) URL: {safe_url(url)!r} "
            "(expected e.g. http://localhost:8080)."
        )
    if parts.path.rstrip("/").endswith("/api"):
        url = url[: -len("/api")]  # a common slip: the API root instead of the server root
    return url


def _local_file(data_dir: Path | str | None) -> Path:
    base = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return base.absolute() / CONNECTION_FILE


def _from_file(path: Path) -> Connection | None:
    try:
        data = read_connection_file(path)
    except FileNotFoundError:
        return None
    if not data.get("url"):
        raise LabelStudioError(
            f"The local studio in {path.parent} was never started completely; "
            "run `toolkit studio up`."
        )
    return Connection(url=data["url"], api_key=data["api_key"], origin=f"local studio ({path})")


def resolve_connection(
    url: str | None = None, api_key: str | None = None, data_dir: Path | str | None = None
) -> Connection:
    """The connection to use: explicit arguments > ``LABEL_STUDIO_URL`` / ``LABEL_STUDIO_API_KEY``
    > the local studio's ``connection.json`` in ``data_dir`` (default
    :func:`~toolkit.labelstudio.server.default_data_dir`).

    URL and key are looked up separately (an argument URL may go with a key from the
    environment). If only a URL is found and it is the local studio's, its key is used. A
    connection file that group or others can read is refused (it holds the key; fix: chmod 600).
    Raises :class:`LabelStudioError` if nothing (or only half) is configured. Does not contact
    the server: see :func:`connect`.
    """
    env_url = os.environ.get(ENV_URL, "").strip() or None
    env_key = os.environ.get(ENV_API_KEY, "").strip() or None
    url = (url or "").strip() or None
    api_key = (api_key or "").strip() or None
    url_source = "the arguments" if url else (f"${ENV_URL}" if env_url else None)
    key_source = "the arguments" if api_key else (f"${ENV_API_KEY}" if env_key else None)
    the_url = url or env_url
    the_key = api_key or env_key

    if the_url and the_key:
        if url and api_key:
            origin = "arguments"
        elif not url and not api_key:
            origin = f"${ENV_URL} and ${ENV_API_KEY}"
        else:
            origin = f"URL from {url_source}, API key from {key_source}"
        return Connection(_normalise_url(the_url, str(url_source)), the_key, origin)

    local_path = _local_file(data_dir)
    if the_key:
        raise LabelStudioError(
            f"An API key is set ({key_source}) but no URL: set {ENV_URL} too "
            "(e.g. http://localhost:8080)."
        )
    local = _from_file(local_path)
    if the_url:
        the_url = _normalise_url(the_url, str(url_source))
        if local is not None and the_url == local.url:
            return Connection(
                the_url, local.api_key, f"URL from {url_source}, key from {local_path}"
            )
        raise LabelStudioError(
            f"A Label Studio URL is set ({url_source}: {safe_url(the_url)}) but no API key: set "
            f"{ENV_API_KEY} to a personal access token (Label Studio: Account & Settings)."
        )
    if local is None:
        raise LabelStudioError(
            "No Label Studio is configured: run `toolkit studio up` to start a local one, or set "
            f"both {ENV_URL} and {ENV_API_KEY} to use another server."
        )
    return local


# ---------------------------------------------------------------------------------------------
# errors


def _detail(body: Any, limit: int = 300) -> str:
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


def _is_html(body: Any) -> bool:
    return isinstance(body, str) and body.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


def _transport_reason(exc: BaseException) -> str:
    import httpx

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


def _scrub(message: str, secret: str | None) -> str:
    if secret and len(secret) >= 4:
        message = message.replace(secret, "***")
    return message


def _hint_unreachable(conn: Connection) -> str:
    if conn.origin.startswith("local studio"):
        return "Is it running? Try `toolkit studio status`, or `toolkit studio up` to start it."
    return "Is it running? Try `toolkit studio status` (for the local studio) or check the URL."


def _connect_error(exc: BaseException, conn: Connection) -> LabelStudioError:
    """Translate a failure of the connection check into a clear error."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    where = conn.safe_url
    if isinstance(exc, httpx.HTTPError) and not isinstance(exc, httpx.HTTPStatusError):
        message = (
            f"Cannot reach Label Studio at {where} ({_transport_reason(exc)}). "
            + _hint_unreachable(conn)
        )
    elif isinstance(exc, ApiError) and exc.status_code in (401, 403):
        message = (
            f"Label Studio at {where} refused the API key from {conn.origin} "
            f"(HTTP {exc.status_code}: {_detail(exc.body)}). Check {ENV_API_KEY}: a personal "
            "access token or a legacy token from Account & Settings on that server."
        )
    elif isinstance(exc, ApiError) and (
        exc.status_code in (404, 405) or _is_html(exc.body) or (exc.status_code or 0) < 400
    ):
        message = (
            f"{where} does not look like a Label Studio server (HTTP {exc.status_code} "
            f"on /api/current-user/whoami: {_detail(exc.body)}). Check {ENV_URL}: the server "
            "root, e.g. http://localhost:8080."
        )
    elif isinstance(exc, ApiError):
        message = (
            f"Label Studio at {where} answered HTTP {exc.status_code} to a simple request "
            f"({_detail(exc.body)}); see its logs."
        )
    elif isinstance(exc, ValueError):  # a non-JSON answer (e.g. to the token refresh)
        message = (
            f"{where} does not look like a Label Studio server (its answer is not JSON). "
            f"Check {ENV_URL}: the server root, e.g. http://localhost:8080."
        )
    else:
        message = f"Cannot use Label Studio at {where}: {type(exc).__name__}: {exc}"
    return LabelStudioError(_scrub(message, conn.api_key))


def connect(
    conn: Connection, *, timeout: float | None = None, max_retries: int | None = None
) -> LabelStudio:
    """An SDK client for ``conn``, checked with one cheap authenticated call (who am I).

    ``timeout`` (seconds per request; default ``TOOLKIT_HTTP_TIMEOUT``, else the SDK's 60) and
    ``max_retries`` (SDK default 2) apply to every call of the client. The check is tried again
    (at most 3 times) when a proxy answers 502/503/504 or drops the connection; a refused
    connection or a timeout fails at once. Raises :class:`LabelStudioError` naming the URL
    (never the key) when the server cannot be reached, refuses the key, or is not Label Studio.
    """
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    if timeout is None:
        timeout = env_timeout()
    check_timeout = min(CHECK_TIMEOUT, timeout) if timeout else CHECK_TIMEOUT
    for attempt in range(3):
        try:
            client = LabelStudio(
                base_url=conn.url, api_key=conn.api_key, timeout=timeout, max_retries=max_retries
            )
            me = client.users.whoami(request_options={"max_retries": 0, "timeout": check_timeout})
            break
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            flaky = (isinstance(exc, ApiError) and exc.status_code in (502, 503, 504)) or (
                isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError))
            )
            if attempt < 2 and flaky:
                time.sleep(0.25 * 2**attempt)
                continue
            raise _connect_error(exc, conn) from None
    if not isinstance(getattr(me, "id", None), int):
        raise LabelStudioError(
            f"{conn.safe_url} does not look like a Label Studio server "
            "(/api/current-user/whoami did not describe a user)."
        )
    return client


def whoami(client: LabelStudio) -> Any:
    """The user the client acts as (``.id``, ``.email``)."""
    with api_errors("asking who the current user is"):
        return client.users.whoami()


@contextlib.contextmanager
def api_errors(action: str, url: str | None = None) -> Iterator[None]:
    """Turn SDK and HTTP failures inside the block into :class:`LabelStudioError` naming the
    action, e.g. ``with api_errors("importing tasks into project 3"): ...``."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

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
            f"Label Studio{where} answered HTTP {code} while {action}: {_detail(exc.body)}.{hint}"
        ) from exc
    except httpx.TimeoutException as exc:
        raise LabelStudioError(
            f"Label Studio{where} did not answer in time while {action}; the outcome is unknown."
        ) from exc
    except httpx.HTTPError as exc:
        raise LabelStudioError(
            f"Lost the connection to Label Studio{where} while {action} "
            f"({_transport_reason(exc)}). Is it running? Try `toolkit studio status`."
        ) from exc


def is_transient(exc: BaseException) -> bool:
    """True for a failure that may go away when the same request is sent again: a 5xx, 408 or
    429 answer, an answer that is not the JSON it should be (cut short, a proxy's page), a
    timeout, a refused or dropped connection. For a request that changes something, the
    outcome of such a failure is unknown: it may have been done."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError
    from label_studio_sdk.core.parse_error import ParsingError

    if isinstance(exc, ApiError):
        code = exc.status_code
        return code is None or code < 400 or code >= 500 or code in (408, 429)
    return isinstance(
        exc,
        (IncompleteDownload, ParsingError, httpx.TransportError, ConnectionError, TimeoutError),
    )


def describe_failure(exc: BaseException) -> str:
    """A short description of a failed request, without credentials."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(exc, ApiError):
        if exc.status_code is not None and exc.status_code < 400:
            return f"HTTP {exc.status_code} with an unreadable answer"
        return f"HTTP {exc.status_code}: {_detail(exc.body, 200)}"
    if isinstance(exc, httpx.TransportError):
        return _transport_reason(exc)
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
    for attempt in range(1, policy.attempts + 1):
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
            policy.sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def json_document_problem(path: Path) -> str | None:
    """Why ``path`` is not one complete JSON document (None when it is). Streams the file, so
    a cut-off download is told apart from a complete one without loading it."""
    import ijson

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


class IncompleteDownload(Exception):
    """The body of a download arrived but is not complete (cut short by a proxy)."""


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


def create_personal_access_token(client: LabelStudio) -> str:
    """Create a personal access token (a JWT refresh token) for the client's user and return it.

    ``POST /api/token/``: Label Studio 1.23 allows one live token per user (HTTP 409 otherwise;
    revoke the old one in Account & Settings) and shows it only once. Works with a legacy or a
    personal-access-token client; raises :class:`LabelStudioError` if the server has no
    personal access tokens (older servers, or turned off for the organisation).
    """
    from label_studio_sdk.core.api_error import ApiError

    try:
        with api_errors("creating a personal access token"):
            try:
                created = client.tokens.create(request_options=NO_RETRY)
            except ApiError as exc:
                if exc.status_code == 409:
                    raise LabelStudioError(
                        "This user already has a personal access token; Label Studio allows one "
                        "and shows it only once. Revoke it in Account & Settings, then try again."
                    ) from None
                if exc.status_code in (404, 405):
                    raise LabelStudioError(
                        "This Label Studio has no personal access tokens (no /api/token/); "
                        "use the legacy token from Account & Settings."
                    ) from None
                raise
    except LabelStudioError as exc:
        if "HTTP 403" in str(exc):
            raise LabelStudioError(
                "Label Studio refused to create a personal access token (HTTP 403): personal "
                "access tokens may be turned off for the organisation (Organization settings)."
            ) from None
        raise
    token = getattr(created, "token", None)
    if not isinstance(token, str) or not token:
        raise LabelStudioError("Label Studio answered without a token to POST /api/token/.")
    return token
