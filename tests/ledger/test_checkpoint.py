"""Signed checkpoints: truncation (tail deleted, head row rewritten to match) and rewrites before the checkpoint are
found; a tampered checkpoint or another key is refused. Both databases."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update
from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.domain import DetainerForm
from detainers.ledger import (
    DETAINER_PREFIX,
    Authority,
    DetainerReceived,
    PendingEvent,
    Recorder,
    event_hash,
    make_engine,
    upgrade,
)
from detainers.ledger._chain import hash_body
from detainers.ledger._schema import events, head

T0 = datetime(2024, 3, 8, 19, 0, tzinfo=UTC)


def _append(recorder: Recorder, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        recorder.append(
            [
                PendingEvent(
                    stream_id=DETAINER_PREFIX + f"d{i}",
                    expected_version=0,
                    payload=DetainerReceived(
                        office="ERO-LOS", form=DetainerForm.I247A_2017, received_at=T0 + timedelta(minutes=i)
                    ),
                    actor="clerk:test",
                    authority=Authority.FORM,
                    recorded_at=T0,
                )
            ]
        )


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


class CheckpointSuite:
    @pytest.fixture
    def url(self) -> Iterator[str]:  # pragma: no cover - overridden
        raise NotImplementedError
        yield ""

    @pytest.fixture
    def engine(self, url: str) -> Iterator[Engine]:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()

    @pytest.fixture
    def keys(self, tmp_path: Path) -> tuple[Path, Path]:
        key = tmp_path / "auditor.key"
        code, output = _run("audit", "keygen", str(key))
        assert code == 0, output
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        return key, Path(f"{key}.pub")

    def _checkpoint(self, url: str, key: Path, out: Path) -> dict[str, object]:
        code, output = _run("audit", "checkpoint", "--db", url, "--key", str(key), "--out", str(out))
        assert code == 0, output
        data: dict[str, object] = json.loads(out.read_text())
        return data

    def test_checkpoint_then_more_events_verifies(
        self, engine: Engine, url: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        recorder = Recorder(engine)
        _append(recorder, 4)
        signed = self._checkpoint(url, keys[0], tmp_path / "cp.json")
        assert (signed["seq"], signed["hash"]) == recorder.head()
        _append(recorder, 2, start=4)
        code, output = _run(
            "audit", "verify", "--db", url, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", str(keys[1])
        )
        assert code == 0, output
        assert "checkpoint OK: event #4" in output

    def test_truncation_with_the_head_row_rewritten_is_detected(
        self, engine: Engine, url: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        recorder = Recorder(engine)
        _append(recorder, 5)
        self._checkpoint(url, keys[0], tmp_path / "cp.json")
        with engine.begin() as conn:
            conn.execute(delete(events).where(events.c.seq > 3))
            third = conn.execute(select(events.c.hash).where(events.c.seq == 3)).scalar_one()
            conn.execute(update(head).values(seq=3, hash=third))
        assert recorder.verify().ok  # without the checkpoint, nothing shows
        code, output = _run("audit", "verify", "--db", url, "--chain-only", "--checkpoint", str(tmp_path / "cp.json"))
        assert code == 1
        assert "checkpoint FAILED" in output and "events #4–#5 were removed" in output
        code, output = _run("audit", "verify", "--db", url, "--json", "--checkpoint", str(tmp_path / "cp.json"))
        assert code == 1 and "truncated" in json.loads(output)["checkpoint"]["problem"]

    def test_a_chain_rewritten_from_an_altered_event_is_detected(
        self, engine: Engine, url: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        recorder = Recorder(engine)
        _append(recorder, 4)
        self._checkpoint(url, keys[0], tmp_path / "cp.json")
        # Alter event 2 and recompute every hash from there on, as an insider with write access could.
        stored = recorder.read(limit=10)
        prev = stored[0].hash
        with engine.begin() as conn:
            for event in stored[1:]:
                payload = dict(event.payload)
                if event.seq == 2:
                    payload["office"] = "ERO-ELSEWHERE"
                body = hash_body(
                    seq=event.seq,
                    stream_id=event.stream_id,
                    version=event.version,
                    type=event.type,
                    recorded_at=event.recorded_at,
                    actor=event.actor,
                    authority=event.authority,
                    subject_key=event.subject_key,
                    payload=payload,
                    rules=event.rules,
                    prev_hash=prev,
                )
                digest = event_hash(body)
                conn.execute(
                    update(events)
                    .where(events.c.seq == event.seq)
                    .values(payload=json.dumps(payload), prev_hash=prev, hash=digest)
                )
                prev = digest
            conn.execute(update(head).values(hash=prev))
        assert recorder.verify().ok
        code, output = _run("audit", "verify", "--db", url, "--chain-only", "--checkpoint", str(tmp_path / "cp.json"))
        assert code == 1
        assert "the chain was rewritten at or before #4" in output

    def test_a_tampered_checkpoint_or_another_key_is_refused(
        self, engine: Engine, url: str, keys: tuple[Path, Path], tmp_path: Path
    ) -> None:
        recorder = Recorder(engine)
        _append(recorder, 3)
        signed = self._checkpoint(url, keys[0], tmp_path / "cp.json")
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps({**signed, "seq": 2}))
        code, output = _run("audit", "verify", "--db", url, "--checkpoint", str(forged))
        assert code == 2 and "signature does not verify" in output
        other = tmp_path / "other.key"
        assert _run("audit", "keygen", str(other))[0] == 0
        code, output = _run(
            "audit", "verify", "--db", url, "--checkpoint", str(tmp_path / "cp.json"), "--public-key", f"{other}.pub"
        )
        assert code == 2 and "signed with another key" in output
        assert output.count("\n") == 1  # one line, no traceback


class TestSQLite(CheckpointSuite):
    @pytest.fixture
    def url(self, tmp_path: Path) -> Iterator[str]:
        yield f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.mark.postgres
class TestPostgres(CheckpointSuite):
    @pytest.fixture
    def url(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url


def test_keygen_never_overwrites_and_a_bad_key_file_is_one_line(tmp_path: Path) -> None:
    key = tmp_path / "k"
    assert _run("audit", "keygen", str(key))[0] == 0
    code, output = _run("audit", "keygen", str(key))
    assert code == 2 and "refusing to overwrite" in output
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    code, output = _run("audit", "checkpoint", "--key", str(junk), "--out", str(tmp_path / "cp.json"))
    assert code == 2 and output.strip() == f"error: {junk}: not an unencrypted PEM private key"
