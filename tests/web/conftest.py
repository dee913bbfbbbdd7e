"""Fixtures for the web desk: a desk on a fresh SQLite file with one token per role, and a signed-in client."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient will move from httpx to httpx2; the client still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from detainers.clock import FrozenClock
from detainers.desk import BookingIn, DetainerIn, EligibilityIn, LinkIn, SubjectIn
from detainers.ledger import Authority, ChargeIn
from detainers.service import Actor, Office, Role, Services, Settings, build_services
from detainers.web import WebSettings, create_app

T0 = datetime(2024, 3, 8, 20, 0, tzinfo=UTC)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
LOADER = Actor("import:test-loader", "clerk")


@dataclass
class WebEnv:
    services: Services
    clock: FrozenClock
    tokens: dict[str, str]
    ids: dict[str, str]
    tmp: Path

    def client(self, role: str | None = None) -> TestClient:
        client = TestClient(create_app(services=self.services, web=WebSettings(zone="America/Los_Angeles")))
        client.__enter__()
        self._clients.append(client)
        if role is not None:
            response = self.sign_in(client, self.tokens[role])
            assert response.status_code == 303, response.text
        return client

    def sign_in(self, client: TestClient, token: str, next_path: str | None = None) -> Any:
        """Sign in through the form, as a browser does: open it (pre-session cookie and field), then send it."""
        import re

        form = client.get("/sign-in").text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', form)
        assert found, "no csrf field on the sign-in form"
        data = {"token": token, "csrf": found.group(1), **({"next": next_path} if next_path else {})}
        return client.post("/sign-in", data=data, follow_redirects=False)

    def csrf(self, client: TestClient, path: str = "/desk") -> str:
        import re

        page = client.get(path).text
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert found, "no csrf field on " + path
        return found.group(1)

    def __post_init__(self) -> None:
        self._clients: list[TestClient] = []


def seed(services: Services, now: datetime) -> dict[str, str]:
    """Two bookings in Los Angeles (one with a detainer from ERO-LOS), one Houston detainer from ERO-HOU."""
    desk = services.desk
    booking = desk.open_booking(
        BookingIn(
            booking_number="LASD-24-0001",
            facility="Men's Central Jail (test)",
            jurisdiction="us/ca/los-angeles/lasd",
            timezone="America/Los_Angeles",
            booked_at=now - timedelta(days=2),
            charges=[ChargeIn(statute="PC 459", level="felony")],
            subject=SubjectIn(family_name="Testcase", given_names="Zulu", a_number="A000012345"),
            source=Authority.IMPORT,
        ),
        LOADER,
    )
    spare = desk.open_booking(
        BookingIn(
            booking_number="LASD-24-0002",
            facility="Men's Central Jail (test)",
            jurisdiction="us/ca/los-angeles/lasd",
            timezone="America/Los_Angeles",
            booked_at=now - timedelta(days=1),
            charges=[ChargeIn(statute="PC 484(a)", level="misdemeanor")],
            subject=SubjectIn(family_name="Fixture", given_names="Yankee"),
            source=Authority.IMPORT,
        ),
        LOADER,
    )
    desk.record_eligibility(
        booking.id, EligibilityIn(eligible_at=now + timedelta(hours=6), reason="bond_posted"), LOADER
    )
    la = desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-LOS",
            received_at=now - timedelta(hours=30),
            warrant="I-200",
            pc_basis=["biometric_records"],
            ice_subject_id="SUBJ-LA-1",
            source=Authority.FORM,
        ),
        LOADER,
    )
    desk.link(la.id, LinkIn(booking_id=booking.id), LOADER)
    hou = desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-HOU",
            received_at=now - timedelta(hours=3),
            pc_basis=["final_order"],
            ice_subject_id="SUBJ-HOU-1",
            source=Authority.API,
        ),
        LOADER,
    )
    return {"booking": booking.id, "spare": spare.id, "la": la.id, "hou": hou.id}


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebEnv]:
    clock = FrozenClock(T0)
    services = build_services(
        Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", worker=False), clock=clock, notifiers={}
    )
    services.tokens.hasher = FAST_HASHER
    services.limiter.failure_delay = 0.0  # failed sign-ins answered at once (tests/service/test_auth.py times it)
    services.desk.register_office(Office("ERO-LOS", "ERO Los Angeles", email="ero-los@ice.invalid"))
    services.desk.register_office(Office("ERO-HOU", "ERO Houston", email="ero-hou@ice.invalid"))
    tokens: dict[str, str] = {}
    for role in Role:
        office = "ERO-LOS" if role is Role.ICE_LIAISON else None
        tokens[role.value], _ = services.tokens.create(role, label=f"test {role.value}", now=T0, office=office)
    ids = seed(services, T0)
    env = WebEnv(services, clock, tokens, ids, tmp_path)
    yield env
    for client in env._clients:
        client.__exit__(None, None, None)
    services.close()
