"""Authentication under attack: keyed hashes, cheap wrong guesses, rate limits, expiry, rotation, old hashes."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from detainers.ledger import format_utc, make_engine, upgrade
from detainers.ledger._schema import tokens
from detainers.service import Role, TokenStore

from .conftest import FAST_HASHER, T0


class _NoArgon2:
    """A hasher that fails the test if anything asks it to hash or verify."""

    def hash(self, _password: str) -> str:
        raise AssertionError("argon2 used")

    def verify(self, _hash: str, _password: str) -> bool:
        raise AssertionError("argon2 used")


def _wrong(token: str) -> str:
    prefix, token_id, secret = token.split("_", 2)
    return f"{prefix}_{token_id}_{'x' * len(secret)}"


def test_tokens_carry_at_least_128_bits_and_are_stored_as_hmac_under_a_server_key(env: Any) -> None:
    token = env.tokens["clerk"]
    secret = token.split("_", 2)[2]
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) * 8 >= 128
    with env.services.desk.engine.connect() as conn:
        stored = conn.execute(select(tokens.c.hash).where(tokens.c.token_id == token.split("_")[1])).scalar_one()
    assert stored.startswith("hmac-sha256$")
    assert stored != "hmac-sha256$" + hashlib.sha256(token.encode()).hexdigest()  # keyed, not a plain digest
    other = TokenStore(env.services.desk.engine, key=b"k" * 32)
    assert other.digest(token) != stored and other.authenticate(token) is None  # another key checks nothing


def test_a_wrong_secret_for_a_real_token_id_never_runs_a_password_hash(env: Any) -> None:
    env.services.tokens.hasher = _NoArgon2()  # type: ignore[assignment]
    bad = env.client.get("/v1/me", headers={"Authorization": f"Bearer {_wrong(env.tokens['clerk'])}"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert env.call("clerk", "GET", "/v1/me").status_code == 200


def test_failures_per_token_id_are_limited_but_the_owner_is_never_locked_out(env: Any) -> None:
    wrong = {"Authorization": f"Bearer {_wrong(env.tokens['supervisor'])}"}
    answers = [env.client.get("/v1/me", headers=wrong).status_code for _ in range(12)]
    assert answers[:9] == [401] * 9 and answers[-1] == 429
    limited = env.client.get("/v1/me", headers=wrong)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["retry_after"] == int(limited.headers["retry-after"])
    mine = env.call("supervisor", "GET", "/v1/me")  # the owner, never verified before: still let in
    assert mine.status_code == 200 and mine.json()["role"] == "supervisor"


def test_failures_per_client_are_limited_before_any_check(env: Any) -> None:
    assert env.call("clerk", "GET", "/v1/me").status_code == 200  # verified: remembered
    for n in range(20):
        env.client.get("/v1/me", headers={"Authorization": f"Bearer dtn_{n:08x}_guess"})
    blocked = env.client.get("/v1/me", headers={"Authorization": f"Bearer {env.tokens['auditor']}"})
    assert blocked.status_code == 429 and "retry-after" in blocked.headers
    assert env.call("clerk", "GET", "/v1/me").status_code == 200  # a token already verified still works


def test_tokens_expire(env: Any) -> None:
    token, _ = env.services.tokens.create(Role.CLERK, label="temp", now=T0, expires_at=T0 + timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert env.client.get("/v1/me", headers=headers).status_code == 200
    env.clock.advance(timedelta(hours=2))
    assert env.client.get("/v1/me", headers=headers).status_code == 401
    with pytest.raises(ValueError, match="after now"):
        env.services.tokens.create(Role.CLERK, label="x", now=T0, expires_at=T0)


def test_rotation_replaces_the_token_and_revokes_the_old_one(env: Any) -> None:
    old = env.tokens["auditor"]
    assert env.call("auditor", "GET", "/v1/me").status_code == 200
    new, principal = env.services.tokens.rotate(old.split("_")[1], now=T0)
    assert principal.role is Role.AUDITOR and principal.token_id != old.split("_")[1]
    assert env.client.get("/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert env.client.get("/v1/me", headers={"Authorization": f"Bearer {new}"}).json()["role"] == "auditor"


def test_tokens_from_before_the_migration_keep_working_and_are_rehashed(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0002")
        token = "dtn_0badc0de_" + "s" * 32
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_tokens (token_id, hash, role, office, label, created_at) "
                    "VALUES ('0badc0de', :hash, 'clerk', NULL, 'issued long ago', :at)"
                ),
                {"hash": FAST_HASHER.hash(token), "at": format_utc(T0)},
            )
        upgrade(engine)
        store = TokenStore(engine, hasher=FAST_HASHER)
        assert store.list()[0]["scheme"].startswith("argon2")
        assert store.authenticate(_wrong(token)) is None
        principal = store.authenticate(token)
        assert principal is not None and principal.role is Role.CLERK
        assert store.list()[0]["scheme"] == "hmac-sha256"
        store.hasher = _NoArgon2()  # type: ignore[assignment]
        assert TokenStore(engine, hasher=_NoArgon2()).authenticate(token) is not None  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_token_cli_creates_with_expiry_rotates_and_lists(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from detainers.cli import app

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    made = runner.invoke(app, ["token", "create", "--role", "clerk", "--expires", "90d", "--db", db])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    token_id = token.split("_")[1]
    listed = runner.invoke(app, ["token", "list", "--db", db])
    assert token_id in listed.stdout and "expires" in listed.stdout
    rotated = runner.invoke(app, ["token", "rotate", token_id, "--db", db])
    assert rotated.exit_code == 0, rotated.output
    assert rotated.stdout.strip().startswith("dtn_") and rotated.stdout.strip() != token
    assert "revoked" in runner.invoke(app, ["token", "list", "--db", db]).stdout
    bad = runner.invoke(app, ["token", "create", "--role", "clerk", "--expires", "2001-01-01T00:00Z", "--db", db])
    assert bad.exit_code != 0 and "not in the future" in bad.output


def test_a_failed_guess_is_answered_late_and_a_blocked_client_is_turned_away_early(env: Any) -> None:
    import time

    env.services.limiter.failure_delay = 0.3
    assert env.call("clerk", "GET", "/v1/me").status_code == 200  # verified before the flood
    wrong = {"Authorization": f"Bearer {_wrong(env.tokens['auditor'])}"}
    started = time.perf_counter()
    assert env.client.get("/v1/me", headers=wrong).status_code == 401
    assert time.perf_counter() - started >= 0.3
    env.services.limiter.failure_delay = 0.0
    for _ in range(25):
        env.client.get("/v1/offices", headers=wrong)
    turned = env.client.get("/v1/detainers?offset=-5", headers=wrong)  # invalid too: refused before parsing
    assert turned.status_code == 429 and turned.json()["retry_after"] >= 1
    assert env.call("clerk", "GET", "/v1/detainers").status_code == 200  # the verified clerk is not turned away


def test_a_legacy_argon2_token_id_past_its_limit_runs_no_more_argon2(env: Any) -> None:
    token = "dtn_01dc0de5_" + "t" * 32
    with env.services.desk.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO api_tokens (token_id, hash, role, office, label, created_at) "
                "VALUES ('01dc0de5', :hash, 'clerk', NULL, 'old', :at)"
            ),
            {"hash": FAST_HASHER.hash(token), "at": format_utc(T0)},
        )
    store = env.services.tokens
    store._forget()
    checks = []

    class Counting:
        def verify(self, stored: str, given: str) -> bool:
            checks.append(given)
            return FAST_HASHER.verify(stored, given)

    store.hasher = Counting()
    wrong = {"Authorization": f"Bearer {_wrong(token)}"}
    answers = [env.client.get("/v1/me", headers=wrong).status_code for _ in range(15)]
    assert answers.count(429) >= 5 and len(checks) == 10  # the per-token limit: no argon2 past it
