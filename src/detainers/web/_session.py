"""Signing in with an API token: the browser keeps a server-side session's id, never the token.

Signing in checks the token and makes a session (``SessionStore``); the HttpOnly cookie carries the session id,
and signing out revokes the session on the server. Every page asks :func:`viewer` (or :func:`optional_viewer`) who
is looking. A form that writes carries a CSRF field, an HMAC of the session id under the server key: a page on
another site can neither read the cookie nor compute the field, and the cookie is ``SameSite=Lax`` besides.

The sign-in form itself is guarded against login CSRF (another site signing the browser in as someone else): the
form's page sets a pre-session cookie and the form carries its HMAC, and a sign-in whose ``Origin`` (or, without
one, ``Referer``) is another site is refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response

from detainers.service import SESSION_LIFETIME, Permission, Principal, Role, SessionStore, TokenStore, allowed

__all__ = [
    "COOKIE",
    "PRE_COOKIE",
    "check_sign_in_form",
    "end_session",
    "sign_in_form_token",
    "start_session",
    "PageForbidden",
    "PageNotFound",
    "SignInRequired",
    "Viewer",
    "check_csrf",
    "clear_cookie",
    "home_for",
    "optional_viewer",
    "safe_next",
    "viewer",
]

COOKIE = "detainers_session"
PRE_COOKIE = "detainers_sign_in"  # the sign-in form's pre-session value (login CSRF)
SHIFT_SECONDS = int(SESSION_LIFETIME.total_seconds())


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form."""

    def __init__(self, next_path: str = "/desk") -> None:
        super().__init__("sign in required")
        self.next_path = next_path


class PageForbidden(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PageNotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Viewer:
    """The signed-in principal and the CSRF value its forms carry."""

    principal: Principal
    csrf: str

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def office(self) -> str | None:
        return self.principal.office

    def can(self, permission: Permission | str) -> bool:
        return allowed(self.principal.role, Permission(permission))

    def require(self, permission: Permission, what: str) -> None:
        if not self.can(permission):
            raise PageForbidden(f"Your role ({self.role.value}) may not {what}.")

    @property
    def sees_bookings(self) -> bool:
        return self.can(Permission.BOOKING_READ)

    def template_context(self) -> dict[str, Any]:
        return {"viewer": self, "csrf": self.csrf}


def _tokens(request: Request) -> TokenStore:
    store: TokenStore = request.app.state.tokens
    return store


def _sessions(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _now(request: Request) -> Any:
    return request.app.state.desk.now()


def _authenticate(request: Request) -> Viewer | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    token_id = _sessions(request).token_id(session_id, now=_now(request))
    principal = _tokens(request).principal(token_id) if token_id else None  # a revoked or expired token ends it
    if principal is None:
        return None
    request.state.principal = principal  # the service's access log records the role and token id, never the token
    return Viewer(principal, _tokens(request).mac("web-csrf", session_id)[:40])


def optional_viewer(request: Request) -> Viewer | None:
    return _authenticate(request)


def viewer(request: Request) -> Viewer:
    found = _authenticate(request)
    if found is None:
        raise SignInRequired(safe_next(request.url.path))
    return found


def check_csrf(viewer: Viewer, sent: object) -> None:
    if not isinstance(sent, str) or not hmac.compare_digest(sent, viewer.csrf):
        raise PageForbidden("This form has expired or did not come from the desk; open the page again and resend.")


def start_session(response: Response, request: Request, principal: Principal) -> None:
    """A new server-side session for ``principal``; the cookie gets its id (never the token)."""
    session_id = _sessions(request).create(principal.token_id, now=_now(request))
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=SHIFT_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(PRE_COOKIE, path="/sign-in", httponly=True, samesite="strict")


def end_session(response: Response, request: Request) -> None:
    """Revoke the browser's session on the server (a copy of the cookie stops working) and clear the cookie."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        _sessions(request).revoke(session_id, now=_now(request))
    clear_cookie(response)


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def sign_in_form_token(request: Request, response: Response) -> str:
    """The sign-in form's hidden field: the HMAC of a pre-session value set (or kept) in a cookie on ``response``."""
    value = request.cookies.get(PRE_COOKIE) or ""
    if not 20 <= len(value) <= 100:
        value = secrets.token_urlsafe(24)
    response.set_cookie(
        PRE_COOKIE,
        value,
        max_age=3600,
        path="/sign-in",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return _tokens(request).mac("sign-in", value)[:40]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_sign_in_form(request: Request, sent: object) -> str | None:
    """Why this sign-in must be refused as possible login CSRF (None: it came from the desk's own form)."""
    own = _origin_of(str(request.base_url))
    origin = request.headers.get("origin")
    referer = request.headers.get("referer")
    if origin is not None and origin.lower() != own:  # "null" too: an opaque origin is not the desk
        return "The sign-in came from another site."
    if origin is None and referer and _origin_of(referer) != own:
        return "The sign-in came from another site."
    value = request.cookies.get(PRE_COOKIE) or ""
    if (
        not value
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, _tokens(request).mac("sign-in", value)[:40])
    ):
        return "The sign-in form has expired or did not come from the desk."
    return None


def safe_next(path: object) -> str:
    """A local path to go back to after signing in (never another site)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/desk"
    if path.startswith(("/sign-in", "/sign-out", "/static", "/v1")):
        return "/desk"
    return path


def home_for(role: Role) -> str:
    return {Role.PUBLIC: "/public", Role.AUDITOR: "/audit"}.get(role, "/desk")
