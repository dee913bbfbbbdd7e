"""schemathesis against the API in-process (no network), on SQLite and, where it is set up, PostgreSQL.

Every operation of the OpenAPI document gets generated valid requests and generated invalid ones (derandomized, so
a run is reproducible), sent with a signed-in token: no answer may be a 5xx, every status and body must be the one
the document states, and invalid input must never be accepted. The run is bounded: a few examples per operation and
mode, plus valid requests aimed at the seeded records; 25-50 s per backend on a loaded 2-core machine.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, negative_data_rejection]
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 8}
ON_REAL_IDS = 6  # valid requests per operation aimed at the seeded records
SENT = dict.fromkeys(EXAMPLES, 0)
BUDGET_SECONDS = 150.0  # a guard against a run gone slow (it takes 25-50 s on a loaded 2-core machine)


def _role_for(path: str) -> str:
    return "auditor" if path.startswith(("/v1/audit/events", "/v1/audit/access-log")) else "supervisor"


def _has_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def _test_for(
    operation: Any, mode: GenerationMode, examples: int, token: str, ids: dict[str, str] | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"}

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=ids))
    def run(case: Any) -> None:
        SENT[mode] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return run


def _fuzz(env: Any, detainer_json: Any, booking_json: Any) -> list[str]:
    # a few records, so that list pages and the ledger have something to serialise
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json())
    assert booking.status_code == 201, booking.text
    made = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(booking_id=booking.json()["id"]))
    assert made.status_code == 201, made.text
    # real ids: each operation on one record also gets valid requests aimed at it (past the 404 of a made-up id)
    real = {
        "booking_id": booking.json()["id"],
        "detainer_id": made.json()["id"],
        "subject_key": made.json()["subject_key"],
    }  # (a real report name answers 501 until its issue lands: a deliberate stub, not aimed at)
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app)
    # the token is sent as it is (below), never generated or mutated: invalid input must meet a signed-in caller
    schema.config.generation.update(with_security_parameters=False)
    failures: list[str] = []
    sent_before = dict(SENT)
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "the OpenAPI document lost operations"
    for operation in operations:
        if time.monotonic() - started > BUDGET_SECONDS:
            failures.append(f"budget of {BUDGET_SECONDS} s spent before {operation.label}")
            break
        token = env.tokens[_role_for(operation.path)]
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not _has_input(operation):
                continue  # nothing to make invalid (e.g. /health)
            try:
                _test_for(operation, mode, examples, token)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # every string is a valid id: no invalid one
            except (Exception, BaseExceptionGroup) as error:  # every operation's failure is reported together
                failures.append(f"{operation.label} [{mode.value}]: {str(error).strip()[:1500]}")
        names = set(re.findall(r"{(\w+)}", operation.path))
        if names and names <= real.keys():
            try:
                _test_for(operation, GenerationMode.POSITIVE, ON_REAL_IDS, token, {n: real[n] for n in names})()
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} [on real ids]: {str(error).strip()[:1500]}")
    for mode in EXAMPLES:  # the run did send requests of both kinds
        assert SENT[mode] - sent_before[mode] >= 120, (mode, SENT[mode] - sent_before[mode])
    return failures


def test_fuzz_sqlite(env: Any, detainer_json: Any, booking_json: Any) -> None:
    failures = _fuzz(env, detainer_json, booking_json)
    assert not failures, "\n\n".join(failures)


@pytest.mark.postgres
def test_fuzz_postgres(pg_env: Any, detainer_json: Any, booking_json: Any) -> None:
    failures = _fuzz(pg_env, detainer_json, booking_json)
    assert not failures, "\n\n".join(failures)
