from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

with warnings.catch_warnings():
    # Starlette 1.x warns that its TestClient will move from httpx to httpx2; the client still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from detainers.clock import FrozenClock
from detainers.ledger._testing import postgres_unavailable, temporary_postgres_schema
from detainers.service import Office, Role, Services, Settings, build_services, create_app
from detainers.service._notifiers import Notifier

T0 = datetime(2024, 3, 8, 12, 0, tzinfo=UTC)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Env:
    services: Services
    client: TestClient
    clock: FrozenClock
    tokens: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers=self.headers(role), **kwargs)


def make_env(url: str, *, notifiers: dict[str, Notifier] | None = None, offices: list[Office] | None = None) -> Env:
    clock = FrozenClock(T0)
    services = build_services(Settings(database_url=url, worker=False), clock=clock, notifiers=notifiers or {})
    services.tokens.hasher = FAST_HASHER
    services.limiter.failure_delay = 0.0  # failed sign-ins answered at once (test_auth.py times the delay)
    for office in offices or [
        Office("ERO-LOS", "ERO Los Angeles", webhook_url="http://127.0.0.1:9/hook", email="ero-los@ice.invalid"),
        Office("ERO-HOU", "ERO Houston", email="ero-hou@ice.invalid"),
    ]:
        services.desk.register_office(office)
    tokens = {}
    for role in Role:
        office = "ERO-LOS" if role is Role.ICE_LIAISON else None
        tokens[role.value], _ = services.tokens.create(role, label=f"test {role.value}", now=T0, office=office)
    tokens["other_liaison"], _ = services.tokens.create(Role.ICE_LIAISON, label="other", now=T0, office="ERO-HOU")
    client = TestClient(create_app(services), raise_server_exceptions=True)
    return Env(services, client, clock, tokens)


@pytest.fixture
def env_factory(tmp_path: Path) -> Iterator[Callable[..., Env]]:
    made: list[Env] = []

    def factory(**kwargs: Any) -> Env:
        env = make_env(f"sqlite:///{tmp_path / f'desk{len(made)}.db'}", **kwargs)
        made.append(env)
        return env

    yield factory
    for env in made:
        env.client.close()
        env.services.close()


@pytest.fixture
def env(env_factory: Callable[..., Env]) -> Env:
    return env_factory()


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


@pytest.fixture
def pg_env(postgres_reason: str | None) -> Iterator[Env]:
    if postgres_reason is not None:
        pytest.skip(postgres_reason)
    with temporary_postgres_schema() as url:
        env = make_env(url)
        try:
            yield env
        finally:
            env.client.close()
            env.services.close()


def detainer_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "form": "I-247A",
        "office": "ERO-LOS",
        "received_at": "2024-03-08T03:00:00-08:00",  # before the frozen clock: a request is decided once received
        "warrant": "I-200",
        "pc_basis": ["biometric_records"],
        "ice_subject_id": "SUBJ-0001",
        "ice_event_no": "EVT-0001",
        "subject": {
            "family_name": "Zyxwvut",
            "given_names": "Synthetica",
            "date_of_birth": "1990-01-02",
            "a_number": "A012345678",
            "addresses": ["123 Nowhere Lane"],
        },
        "source": "form",
    }
    body.update(changes)
    return body


def booking_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "booking_number": "24-000123",
        "facility": "Synthetic County Jail",
        "jurisdiction": "us/ga/fulton",
        "timezone": "America/New_York",
        "booked_at": "2024-03-07T08:00:00-05:00",
        "charges": [{"statute": "OCGA 16-8-2", "level": "misdemeanor"}],
    }
    body.update(changes)
    return body


@pytest.fixture
def detainer_json() -> Callable[..., dict[str, Any]]:
    return detainer_body


@pytest.fixture
def booking_json() -> Callable[..., dict[str, Any]]:
    return booking_body
