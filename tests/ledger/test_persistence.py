"""One persistence suite, run against SQLite and PostgreSQL (abstract case subclassed per backend)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.domain import DetainerForm
from detainers.ledger import (
    DETAINER_PREFIX,
    Authority,
    BookingOpened,
    ConcurrencyError,
    DetainerReceived,
    DetainerServed,
    EventType,
    LinkedToBooking,
    PendingEvent,
    PersonalData,
    PersonalDataErasedError,
    PersonalStore,
    PersonReleased,
    Recorder,
    StoredEvent,
    make_engine,
    upgrade,
)
from detainers.ledger._schema import booking_view, detainer_view, events, metadata

T0 = datetime(2024, 3, 8, 19, 0, tzinfo=UTC)


def received(office: str = "ERO-LOS", at: datetime = T0) -> DetainerReceived:
    return DetainerReceived(office=office, form=DetainerForm.I247A_2017, received_at=at)


def pending(stream: str, expected: int | None, payload: object, at: datetime = T0) -> PendingEvent:
    return PendingEvent(
        stream_id=stream,
        expected_version=expected,
        payload=payload,  # type: ignore[arg-type]
        actor="clerk:test",
        authority=Authority.FORM,
        recorded_at=at,
    )


def _row_of(event: StoredEvent) -> dict[str, object]:
    """An event as its ``ledger_events`` row."""
    return {
        **event.model_dump(exclude={"payload", "rules"}),
        "payload": json.dumps(event.payload),
        "rules": json.dumps(list(event.rules)),
    }


class PersistenceSuite:
    """Backend-agnostic cases; subclasses provide ``url``."""

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
    def recorder(self, engine: Engine) -> Recorder:
        return Recorder(engine)

    def test_migrations_match_the_tables(self, engine: Engine) -> None:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        upgrade(engine)  # idempotent

    def test_append_and_read_a_stream(self, recorder: Recorder) -> None:
        stream = DETAINER_PREFIX + "d1"
        stored = recorder.append([pending(stream, 0, received()), pending(stream, 0, DetainerServed(served_at=T0))])
        assert [(e.seq, e.version, e.type) for e in stored] == [
            (1, 1, "detainer_received"),
            (2, 2, "detainer_served"),
        ]
        back = recorder.stream(stream)
        assert back == stored
        assert back[0].when == T0
        assert back[1].prev_hash == back[0].hash
        assert recorder.stream_version(stream) == 2
        assert recorder.head() == (2, stored[-1].hash)

    def test_stale_version_is_a_conflict_and_writes_nothing(self, recorder: Recorder) -> None:
        stream = DETAINER_PREFIX + "d1"
        recorder.append([pending(stream, 0, received())])
        recorder.append([pending(stream, 1, DetainerServed(served_at=T0))])
        with pytest.raises(ConcurrencyError) as caught:
            recorder.append([pending(stream, 1, DetainerServed(served_at=T0 + timedelta(hours=1)))])
        assert caught.value.actual == 2
        assert recorder.head()[0] == 2
        assert recorder.verify().ok

    def test_a_row_the_unique_index_refuses_at_commit_rolls_the_whole_batch_back(
        self, recorder: Recorder, engine: Engine
    ) -> None:
        """Deferred rows are written with the commit (one pipeline on PostgreSQL), so the unique (stream, version)
        index refuses there: a conflict, nothing of the batch written, and the next writer finds a clean store."""
        stream = DETAINER_PREFIX + "d1"
        first = recorder.append([pending(stream, 0, received())])[0]
        with pytest.raises(ConcurrencyError, match="written meanwhile"), recorder.writing([stream]) as conn:
            recorder.append_in(conn, [pending(DETAINER_PREFIX + "d2", 0, received())], defer=True)
            # A version-2 row the recorder does not know of (its versions were read with the lock).
            conn.execute(events.insert().values({**_row_of(first), "seq": 99, "version": 2}))
            recorder.append_in(conn, [pending(stream, 1, DetainerServed(served_at=T0))], defer=True)
        assert recorder.head() == (1, first.hash)
        assert recorder.stream_version(DETAINER_PREFIX + "d2") == 0
        with engine.connect() as conn:
            assert conn.execute(select(detainer_view.c.id)).scalars().all() == ["d1"]
            assert conn.execute(select(detainer_view.c.version)).scalar() == 1
        again = recorder.append([pending(stream, 1, DetainerServed(served_at=T0))])
        assert [(e.seq, e.version) for e in again] == [(2, 2)]
        assert recorder.verify().ok

    def test_chain_verifies_and_names_the_altered_event(self, recorder: Recorder, engine: Engine, url: str) -> None:
        for i in range(5):
            recorder.append([pending(DETAINER_PREFIX + f"d{i}", 0, received(at=T0 + timedelta(minutes=i)))])
        report = recorder.verify()
        assert report.ok and report.checked == 5
        runner = CliRunner()
        ok = runner.invoke(cli, ["audit", "verify", "--db", url])
        assert ok.exit_code == 0, ok.output
        assert "chain OK: 5 events" in ok.output
        with engine.begin() as conn:
            row = conn.execute(select(events.c.payload).where(events.c.seq == 3)).one()
            altered = json.loads(row.payload)
            altered["office"] = "ERO-ELSEWHERE"
            conn.execute(update(events).where(events.c.seq == 3).values(payload=json.dumps(altered)))
        report = recorder.verify()
        assert not report.ok and report.first_break is not None
        assert report.first_break.seq == 3 and report.first_break.stream_id == DETAINER_PREFIX + "d2"
        bad = runner.invoke(cli, ["audit", "verify", "--db", url, "--json"])
        assert bad.exit_code == 1
        assert json.loads(bad.stdout)["first_break"]["seq"] == 3

    def test_a_deleted_tail_event_is_detected(self, recorder: Recorder, engine: Engine) -> None:
        for i in range(3):
            recorder.append([pending(DETAINER_PREFIX + f"d{i}", 0, received())])
        with engine.begin() as conn:
            conn.execute(events.delete().where(events.c.seq == 3))
        report = recorder.verify()
        assert not report.ok and report.first_break is not None
        assert "chain head" in report.first_break.reason

    def test_a_rewritten_timestamp_breaks_the_chain(self, recorder: Recorder, engine: Engine) -> None:
        for i in range(3):
            recorder.append([pending(DETAINER_PREFIX + f"d{i}", 0, received())])
        with engine.begin() as conn:
            conn.execute(update(events).where(events.c.seq == 2).values(recorded_at="2024-01-01T00:00:00.000000Z"))
        report = recorder.verify()
        assert report.first_break is not None and report.first_break.seq == 2

    def test_concurrent_appends_keep_the_chain_linear(self, recorder: Recorder) -> None:
        errors: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                for i in range(15):
                    recorder.append([pending(DETAINER_PREFIX + f"w{n}-{i}", 0, received())])
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        seqs = [e.seq for e in recorder.iter_all()]
        assert seqs == list(range(1, 8 * 15 + 1))
        assert recorder.verify().ok

    def test_racing_writers_on_one_stream_never_lose_an_update(self, recorder: Recorder) -> None:
        stream = DETAINER_PREFIX + "contested"
        recorder.append([pending(stream, 0, received())])
        outcomes: list[str] = []
        barrier = threading.Barrier(6)

        def writer(n: int) -> None:
            barrier.wait()
            try:
                recorder.append([pending(stream, 1, DetainerServed(served_at=T0 + timedelta(minutes=n)))])
                outcomes.append("ok")
            except ConcurrencyError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
        assert recorder.stream_version(stream) == 2
        assert recorder.verify().ok

    def test_projections_rebuilt_from_events_match(self, recorder: Recorder, engine: Engine) -> None:
        booking = "booking-b1"
        recorder.append(
            [
                pending(
                    booking,
                    0,
                    BookingOpened(booking_number="24-001", jurisdiction="us/ga/fulton", timezone="America/New_York"),
                ),
                pending(DETAINER_PREFIX + "d1", 0, received()),
                pending(DETAINER_PREFIX + "d2", 0, received(office="ERO-ATL")),
            ]
        )
        recorder.append([pending(DETAINER_PREFIX + "d1", 1, LinkedToBooking(booking_id="b1"))])
        recorder.append([pending(booking, 1, PersonReleased(released_at=T0, released_to="public"))])  # type: ignore[arg-type]

        def snapshot() -> list[tuple[object, ...]]:
            with engine.connect() as conn:
                rows = [tuple(r) for r in conn.execute(select(detainer_view).order_by(detainer_view.c.id))]
                rows += [tuple(r) for r in conn.execute(select(booking_view).order_by(booking_view.c.id))]
            return rows

        before = snapshot()
        with engine.connect() as conn:
            status = dict(conn.execute(select(detainer_view.c.id, detainer_view.c.status)).all())
        assert status == {"d1": "released", "d2": "received"}
        assert recorder.rebuild_projections() == 5
        assert snapshot() == before

    def test_personal_data_is_apart_and_erasure_keeps_the_chain(self, recorder: Recorder, engine: Engine) -> None:
        store = PersonalStore(recorder)
        data = PersonalData(
            family_name="Quillfeather", given_names="Testa", a_number="A123456789", addresses=("1 Synthetic Way",)
        )
        key = store.record(data, actor="clerk:test", authority=Authority.FORM, now=T0)
        recorder.append([pending(DETAINER_PREFIX + "d1", 0, received().model_copy(update={"subject_key": key}))])
        assert store.read(key, actor="auditor:a", role="auditor", purpose="court subpoena 24-17", now=T0) == data
        log = store.access_log(subject_key=key)
        assert [(r["actor"], r["purpose"]) for r in log] == [("auditor:a", "court subpoena 24-17")]
        kinds = [e.type for e in recorder.read(subject_key=key)]
        assert kinds == ["personal_data_recorded", "personal_data_read"]
        with engine.connect() as conn:
            ledger_text = " ".join(r.payload for r in conn.execute(select(events.c.payload)))
        for secret in ("Quillfeather", "A123456789", "Synthetic Way"):
            assert secret not in ledger_text
        store.erase(
            key, actor="supervisor:s", order_reference="Expungement order 2024-CV-1", reason="court order", now=T0
        )
        with pytest.raises(PersonalDataErasedError):
            store.read(key, actor="auditor:a", role="auditor", purpose="again", now=T0)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM personal_data")).scalar() == 0
        report = recorder.verify()
        assert report.ok
        assert recorder.read(subject_key=key)[-1].kind is EventType.PERSONAL_DATA_ERASED

    def test_invalid_payload_never_reaches_the_ledger(self, recorder: Recorder) -> None:
        with pytest.raises(ValueError):
            DetainerReceived(office="", form=DetainerForm.I247A_2017, received_at=T0)
        with pytest.raises(ValueError):
            DetainerReceived(office="X", form=DetainerForm.I247A_2017, received_at=datetime(2024, 1, 1))  # naive
        assert recorder.head()[0] == 0


class TestSQLite(PersistenceSuite):
    @pytest.fixture
    def url(self, tmp_path: Path) -> Iterator[str]:
        yield f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.mark.postgres
class TestPostgres(PersistenceSuite):
    @pytest.fixture
    def url(self, postgres_url: str) -> Iterator[str]:
        yield postgres_url

    def test_a_connection_lost_in_the_pipeline_leaves_the_pool_and_the_next_append_works(
        self, recorder: Recorder, engine: Engine
    ) -> None:
        """The deferred rows and COMMIT go through psycopg's pipeline, beside SQLAlchemy's error handling: a
        connection that dies there must not go back to the pool."""
        stream = DETAINER_PREFIX + "d1"
        recorder.append([pending(stream, 0, received())])
        with pytest.raises(Exception) as caught, recorder.writing([stream]) as conn:
            recorder.append_in(conn, [pending(stream, 1, DetainerServed(served_at=T0))], defer=True)
            with engine.connect() as other:  # the server ends the writer's session before its rows are sent
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not isinstance(caught.value, ConcurrencyError)
        assert recorder.head()[0] == 1
        for _ in range(engine.pool.size() + 1):  # every pooled connection works
            recorder.append([pending(DETAINER_PREFIX + "d2", None, received())])
        assert recorder.head()[0] == 2 + engine.pool.size()
        assert recorder.verify().ok
