"""Signing in with an API token: the token lives only in an HttpOnly cookie, never in a URL or a log line.

Every page asks :func:`viewer` (or :func:`optional_viewer`) who is looking. A form that writes carries a CSRF field
derived from the token (SHA-256 of a fixed prefix and the token): a page on another site can neither read the cookie
nor compute the field, and the cookie is ``SameSite=Lax`` besides.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from detainers.service import Permission, Principal, Role, TokenStore, allowed

__all__ = [
    "COOKIE",
    "PageForbidden",
    "PageNotFound",
    "SignInRequired",
    "Viewer",
    "check_csrf",
    "clear_cookie",
    "home_for",
    "optional_viewer",
    "safe_next",
    "set_cookie",
    "viewer",
]

COOKIE = "detainers_session"
SHIFT_SECONDS = 12 * 3600  # one long shift; sign in again after


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


def _csrf_for(token: str) -> str:
    return hashlib.sha256(b"detainers-web-csrf\x00" + token.encode()).hexdigest()[:40]


def _authenticate(request: Request) -> Viewer | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    store: TokenStore = request.app.state.tokens
    principal = store.authenticate(token)
    if principal is None:
        return None
    request.state.principal = principal  # the service's access log records the role and token id, never the token
    return Viewer(principal, _csrf_for(token))


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


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=SHIFT_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def safe_next(path: object) -> str:
    """A local path to go back to after signing in (never another site)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/desk"
    if path.startswith(("/sign-in", "/sign-out", "/static", "/v1")):
        return "/desk"
    return path


def home_for(role: Role) -> str:
    return {Role.PUBLIC: "/public", Role.AUDITOR: "/audit"}.get(role, "/desk")
