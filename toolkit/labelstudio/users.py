"""Users of a Label Studio organisation, made the way people join an open-source server.

The OSS admin API cannot set a user's password or read another user's token, so a user signs
up through the organisation's invite link (as a person would) and reads its own API token with
that session. Used by the quickstart's sample annotators and by the tests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

from toolkit.errors import LabelStudioError
from toolkit.labelstudio.connection import Connection, safe_url


@dataclass(frozen=True, slots=True)
class User:
    """A signed-up user: id, e-mail and its API token (hidden from repr)."""

    id: int
    email: str
    token: str

    def __repr__(self) -> str:
        return f"User(id={self.id}, email={self.email!r}, token=<hidden>)"

    def connection(self, url: str) -> Connection:
        return Connection(url, self.token, f"user {self.email}")


def invite_url(admin: Connection) -> str:
    """The organisation's invite link (``/user/signup/?token=…``)."""

    try:
        response = httpx.get(
            f"{admin.url}/api/invite",
            headers={"Authorization": f"Token {admin.api_key}"},
            trust_env=False,
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["invite_url"]
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        raise LabelStudioError(
            f"cannot get the invite link of {safe_url(admin.url)} ({type(exc).__name__}); "
            "creating users needs an admin's legacy API token"
        ) from None


def sign_up(admin: Connection, email: str, password: str | None = None) -> User:
    """Create a user through the invite link and return it with its API token."""

    invite = invite_url(admin)
    password = password or secrets.token_urlsafe(16) + "-Aa1"
    with httpx.Client(base_url=admin.url, trust_env=False, timeout=30) as session:
        session.get(invite).raise_for_status()  # sets the csrftoken cookie
        response = session.post(
            invite,
            data={
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "email": email,
                "password": password,
            },
            headers={"Referer": admin.url + invite},
        )
        if response.status_code != 302:
            raise LabelStudioError(
                f"signing up {email} at {safe_url(admin.url)} failed (HTTP "
                f"{response.status_code}): an invalid e-mail, or one already signed up"
            )
        token = session.get("/api/current-user/token").raise_for_status().json()["token"]
        user_id = session.get("/api/current-user/whoami").raise_for_status().json()["id"]
    return User(int(user_id), email, token)
