"""What every page module shares: the viewer dependencies, the page settings, the desk of the app."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from detainers.desk import (
    Desk,
)
from detainers.service import need_to_know as ntk
from detainers.web._session import (
    Viewer,
    optional_viewer,
    viewer,
)

__all__ = [
    "CONFLICT",
    "WRITTEN",
    "MaybeViewer",
    "ViewerDep",
    "WebSettings",
    "audience_of",
    "default_zone",
    "desk_of",
    "settings_of",
]

ViewerDep = Annotated[Viewer, Depends(viewer)]
MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]

CONFLICT = (
    "Someone else changed this record after you opened it. Nothing was written (nothing of theirs was overwritten "
    "either): the page below shows the record as it is now — check it and enter your change again."
)

WRITTEN = {
    "detainer_received": "The detainer is recorded and the policy engine has been asked.",
    "notification_sent": "The notification is recorded.",
    "person_released": "The release is recorded.",
    "transferred": "The transfer is recorded.",
    "detainer_lifted": "The lift is recorded.",
    "detainer_served": "Service on the person is recorded.",
    "linked_to_booking": "The detainer is linked to the booking.",
    "corrected": "The correction is recorded, with the old value kept beside it.",
    "person_notice_served": "The notice is recorded as served to the person, with the printed PDF's hash.",
}


@dataclass(frozen=True)
class WebSettings:
    """How the pages behave: dashboard refresh interval, the zone for times typed without a booking."""

    refresh_seconds: int = 30
    zone: str | None = None  # None: the zone most active bookings use (else UTC)


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def settings_of(request: Request) -> WebSettings:
    found = getattr(request.app.state, "web", None)
    return found if isinstance(found, WebSettings) else WebSettings()


def default_zone(request: Request, desk: Desk) -> str:
    chosen = settings_of(request).zone
    if chosen:
        return chosen
    zones = Counter(b.timezone for b in desk.active_bookings())
    return zones.most_common(1)[0][0] if zones else "UTC"


def audience_of(who: Viewer) -> ntk.Audience:
    """Whom a page shows records to: the need-to-know rules' audience for the signed-in viewer."""
    return ntk.Audience(who.role, who.office)
