"""Connections to Label Studio and an SDK client with clear errors.

Where the connection comes from: :mod:`toolkit.labelstudio.connection`; how calls are
retried: :mod:`toolkit.labelstudio.retry`.

Keys: both kinds work. A personal access token (a JWT refresh token, the default on Label Studio
1.23 and on hosted servers) is exchanged by the SDK at ``/api/token/refresh/`` for short-lived
access tokens sent as ``Bearer``; any other key is a legacy token sent as ``Token <key>`` (the
local studio uses one). The key is never part of a message, log line or ``repr``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from label_studio_sdk.core.api_error import ApiError

from toolkit.errors import LabelStudioError, ToolkitError
from toolkit.labelstudio.connection import ENV_API_KEY, ENV_URL, Connection
from toolkit.labelstudio.retry import (
    NO_RETRY,
    RetryPolicy,
    api_errors,
    env_number,
    error_detail,
    transport_reason,
)

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


CHECK_TIMEOUT = 15.0
"""Seconds the connection check in :func:`connect` waits for an answer."""

ENV_TIMEOUT = "TOOLKIT_HTTP_TIMEOUT"

CONNECT_RETRY = RetryPolicy(attempts=3, backoff=0.25)
"""The connection check is tried again when a proxy answers 502/503/504 or drops it."""


def env_timeout() -> float | None:
    """``TOOLKIT_HTTP_TIMEOUT`` (seconds per request), or None for the SDK's default (60 s)."""
    value = env_number(ENV_TIMEOUT, float, None)
    if value is not None and value <= 0:
        raise ToolkitError(f"${ENV_TIMEOUT} must be a positive number of seconds")
    return value


# ---------------------------------------------------------------------------------------------
# errors


def _is_html(body: Any) -> bool:
    return isinstance(body, str) and body.lstrip()[:15].lower().startswith(("<!doctype", "<html"))


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

    where = conn.safe_url
    if isinstance(exc, httpx.HTTPError) and not isinstance(exc, httpx.HTTPStatusError):
        message = (
            f"Cannot reach Label Studio at {where} ({transport_reason(exc)}). "
            + _hint_unreachable(conn)
        )
    elif isinstance(exc, ApiError) and exc.status_code in (401, 403):
        message = (
            f"Label Studio at {where} refused the API key from {conn.origin} "
            f"(HTTP {exc.status_code}: {error_detail(exc.body)}). Check {ENV_API_KEY}: a personal "
            "access token or a legacy token from Account & Settings on that server."
        )
    elif isinstance(exc, ApiError) and (
        exc.status_code in (404, 405) or _is_html(exc.body) or (exc.status_code or 0) < 400
    ):
        message = (
            f"{where} does not look like a Label Studio server (HTTP {exc.status_code} "
            f"on /api/current-user/whoami: {error_detail(exc.body)}). Check {ENV_URL}: the server "
            "root, e.g. http://localhost:8080."
        )
    elif isinstance(exc, ApiError):
        message = (
            f"Label Studio at {where} answered HTTP {exc.status_code} to a simple request "
            f"({error_detail(exc.body)}); see its logs."
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
    from label_studio_sdk import LabelStudio

    if timeout is None:
        timeout = env_timeout()
    check_timeout = min(CHECK_TIMEOUT, timeout) if timeout else CHECK_TIMEOUT
    for attempt in CONNECT_RETRY.tries():
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
            if attempt < CONNECT_RETRY.attempts and flaky:
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


def server_identity(client: LabelStudio) -> str | None:
    """A name for the server that does not change with the URL it is reached by (a proxy, an
    internal host name): its organisation's id and creation time, e.g.
    ``label-studio-org-1-2026-12-03T10:00:00.123456+00:00``. ``None`` when the server does not
    say (older servers, or no permission to read the organisation)."""
    try:
        me = client.users.whoami()
        org_id = getattr(me, "active_organization", None)
        if not isinstance(org_id, int):
            return None
        created = client.organizations.get(id=org_id).created_at
    except (ApiError, httpx.HTTPError, ValueError, AttributeError):
        return None
    if created is None:
        return None
    stamp = created.isoformat() if hasattr(created, "isoformat") else str(created)
    return f"label-studio-org-{org_id}-{stamp}"


def create_personal_access_token(client: LabelStudio) -> str:
    """Create a personal access token (a JWT refresh token) for the client's user and return it.

    ``POST /api/token/``: Label Studio 1.23 allows one live token per user (HTTP 409 otherwise;
    revoke the old one in Account & Settings) and shows it only once. Works with a legacy or a
    personal-access-token client; raises :class:`LabelStudioError` if the server has no
    personal access tokens (older servers, or turned off for the organisation).
    """

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
