"""Commands prepared outside the chain lock: a record that moved meanwhile makes the command prepare again (or fail
with a conflict when the caller gave the version), and the chain stays linear under racing writers on both backends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.service.conftest import T0, Env, booking_body, detainer_body

from detainers.desk import (
    Actor,
    BookingIn,
    CorrectionIn,
    DetainerIn,
    EligibilityIn,
    InvalidCommand,
    LiftIn,
    ReleaseIn,
    StatusProofIn,
    default_decider,
)
from detainers.domain import Case
from detainers.law._decision import Decision
from detainers.ledger import ConcurrencyError, make_engine
from detainers.service import Desk

CLERK = Actor("clerk:test", "clerk")
SUPERVISOR = Actor("supervisor:test", "supervisor")


class ConcurrencySuite:
    @pytest.fixture
    def desk_env(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @pytest.fixture
    def desks(self, desk_env: Env) -> Iterator[tuple[Desk, Desk]]:
        """The service's desk and a second one on its own engine (as another process would be)."""
        first = desk_env.services.desk
        engine = make_engine(str(first.engine.url.render_as_string(hide_password=False)))
        second = Desk(engine, clock=first.clock)
        yield first, second
        engine.dispose()

    def _booking_with_detainer(self, desk: Desk) -> str:
        booking = desk.open_booking(BookingIn.model_validate(booking_body()), CLERK)
        desk.receive_detainer(DetainerIn.model_validate(detainer_body(booking_id=booking.id)), CLERK)
        return booking.id

    def test_a_record_that_moves_during_preparation_is_prepared_again(self, desks: tuple[Desk, Desk]) -> None:
        first, second = desks
        booking_id = self._booking_with_detainer(first)
        calls = {"n": 0}

        def racing_decider(case: Case) -> Decision:
            calls["n"] += 1
            if calls["n"] == 1:  # while `first` prepares (no lock held), another writer records eligibility
                second.record_eligibility(
                    booking_id, EligibilityIn(eligible_at=T0 - timedelta(hours=1), reason="bond_posted"), CLERK
                )
            return default_decider(case)

        first.decider = racing_decider
        before = first.booking(booking_id).version
        released = first.release(booking_id, ReleaseIn(released_at=T0), CLERK)
        assert released.status == "released" and released.eligible_at is not None  # built on the other write
        assert calls["n"] == 2  # prepared, found stale under the lock, prepared again
        assert released.version > before + 2
        report = first.recorder.verify()
        assert report.ok and report.head_seq == first.recorder.head()[0]

    def test_a_stale_version_given_by_the_caller_is_a_conflict(self, desks: tuple[Desk, Desk]) -> None:
        first, second = desks
        booking_id = self._booking_with_detainer(first)
        version = first.booking(booking_id).version

        def racing_decider(case: Case) -> Decision:
            if not racing_decider.done:  # type: ignore[attr-defined]
                racing_decider.done = True  # type: ignore[attr-defined]
                second.record_status_proof(booking_id, StatusProofIn(proof="none", shown_at=T0), CLERK)
            return default_decider(case)

        racing_decider.done = False  # type: ignore[attr-defined]
        first.decider = racing_decider
        with pytest.raises(ConcurrencyError) as raised:
            first.release(booking_id, ReleaseIn(released_at=T0, expected_version=version), CLERK)
        assert raised.value.expected == version and raised.value.actual > version
        assert first.booking(booking_id).status == "in_custody"  # nothing of the refused command was written
        assert first.recorder.verify().ok

    def test_racing_writers_on_one_booking_keep_the_chain_linear(self, desks: tuple[Desk, Desk]) -> None:
        first, second = desks
        booking_id = self._booking_with_detainer(first)
        errors: list[BaseException] = []
        per_thread = 6

        def work(desk: Desk, n: int) -> None:
            try:
                for i in range(per_thread):
                    shown = T0 - timedelta(minutes=n * per_thread + i)
                    desk.record_status_proof(booking_id, StatusProofIn(proof="none", shown_at=shown), CLERK)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=((first, second)[n % 2], n)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        events = list(first.recorder.iter_all())
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        proofs = [e for e in events if e.type == "status_proof_recorded"]
        assert len(proofs) == 6 * per_thread
        versions = [e.version for e in events if e.stream_id == f"booking-{booking_id}"]
        assert versions == list(range(1, len(versions) + 1))
        assert first.booking(booking_id).version == versions[-1]
        assert first.recorder.verify().ok

    @staticmethod
    def _in_one_batch(desk: Desk, calls: list[Callable[[], Any]]) -> tuple[list[Any], list[int]]:
        """Run ``calls`` on threads that queue, in this order, behind a held write lock, so they are committed as
        one group; returns each call's answer (or the exception it raised) and the sizes of the batches written."""
        sizes: list[int] = []
        write_batch = desk._write_batch

        def counting(batch: list[Any]) -> None:
            sizes.append(len(batch))
            write_batch(batch)

        desk._write_batch = counting  # type: ignore[method-assign]
        results: list[Any] = [None] * len(calls)

        def run(i: int) -> None:
            try:
                results[i] = calls[i]()
            except Exception as error:  # noqa: BLE001 - returned to the test
                results[i] = error

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        with desk.write_lock:
            for i, thread in enumerate(threads):
                thread.start()
                deadline = time.monotonic() + 10
                while len(desk._queue) < i + 1:
                    assert time.monotonic() < deadline, "command did not reach the queue"
                    time.sleep(0.002)
        for thread in threads:
            thread.join()
        return results, sizes

    def test_group_commit_rechecks_each_command_as_if_alone(self, desks: tuple[Desk, Desk]) -> None:
        first, _second = desks
        booking_id = self._booking_with_detainer(first)
        version = first.booking(booking_id).version
        results, sizes = self._in_one_batch(
            first,
            [
                lambda: first.record_status_proof(booking_id, StatusProofIn(proof="none", shown_at=T0), CLERK),
                lambda: first.record_status_proof(
                    booking_id, StatusProofIn(proof="none", shown_at=T0, expected_version=version), CLERK
                ),
                lambda: first.release(booking_id, ReleaseIn(released_at=T0), CLERK),
                lambda: first.open_booking(BookingIn.model_validate(booking_body(booking_number="24-9")), CLERK),
            ],
        )
        assert sizes[0] == 4  # one transaction for all four
        assert results[0].version > version and results[0].status_proof == "none"
        # Moved by the first command of its own batch: with the caller's version a conflict, nothing written ...
        assert isinstance(results[1], ConcurrencyError) and results[1].expected == version
        # ... without one, prepared again on top of the first and committed after it.
        assert results[2].status == "released" and results[2].version > results[0].version
        assert results[3].booking_number == "24-9"
        events = list(first.recorder.iter_all())
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert sum(e.type == "status_proof_recorded" for e in events) == 1
        versions = [e.version for e in events if e.stream_id == f"booking-{booking_id}"]
        assert versions == list(range(1, len(versions) + 1))
        assert first.recorder.verify().ok

    def test_a_failing_command_does_not_take_its_batch_with_it(
        self, desks: tuple[Desk, Desk], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first, _second = desks
        apply = first._apply

        def failing(conn: Any, plan: Any, read: Any) -> Any:
            if any(getattr(e.payload, "booking_number", None) == "24-FAIL" for e in plan.facts):
                raise RuntimeError("boom")
            return apply(conn, plan, read)

        monkeypatch.setattr(first, "_apply", failing)
        numbers = ["24-1", "24-FAIL", "24-3"]
        results, sizes = self._in_one_batch(
            first,
            [
                (lambda n=n: first.open_booking(BookingIn.model_validate(booking_body(booking_number=n)), CLERK))
                for n in numbers
            ],
        )
        assert sizes == [3, 1, 1, 1]  # the group rolled back, then each alone
        assert isinstance(results[1], RuntimeError)
        assert [results[0].booking_number, results[2].booking_number] == ["24-1", "24-3"]
        listed = {b.booking_number for b in first.list_bookings(limit=100)[0]}
        assert "24-FAIL" not in listed and {"24-1", "24-3"} <= listed
        events = list(first.recorder.iter_all())
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert first.recorder.verify().ok

    def test_records_written_by_another_process_are_not_lost_through_the_state_cache(
        self, desks: tuple[Desk, Desk]
    ) -> None:
        first, second = desks
        booking_id = self._booking_with_detainer(first)
        assert first.latest.get(("booking", booking_id)) is not None  # what `first` committed, it remembers
        second.record_eligibility(  # `first` does not see this write: its remembered booking is now behind
            booking_id, EligibilityIn(eligible_at=T0 - timedelta(hours=1), reason="bond_posted"), CLERK
        )
        released = first.release(booking_id, ReleaseIn(released_at=T0), CLERK)
        assert released.status == "released"
        assert released.eligible_at is not None and released.eligibility_reason == "bond_posted"  # not lost
        events = [e for e in first.recorder.iter_all() if e.stream_id == f"booking-{booking_id}"]
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert released.version == events[-1].version
        assert first.booking(booking_id) == released
        assert first.recorder.verify().ok

    def test_a_refusal_is_never_based_on_a_remembered_record(self, desks: tuple[Desk, Desk]) -> None:
        first, second = desks
        booking_id = self._booking_with_detainer(first)
        detainer_id = first.booking(booking_id).detainer_ids[0]
        first.lift(detainer_id, LiftIn(lifted_at=T0, reason="entered in error"), SUPERVISOR)
        # Another process corrects the lift away; `first` still remembers the detainer as lifted ...
        second.correct(
            "detainer", detainer_id, CorrectionIn(field="lifted_at", value=None, reason="wrong file"), SUPERVISOR
        )
        second.correct(
            "detainer", detainer_id, CorrectionIn(field="lift_reason", value=None, reason="wrong file"), SUPERVISOR
        )
        assert first.latest.get(("detainer", detainer_id)).lifted_at is not None
        # ... yet lifting again is judged on the stored record, which is not lifted: accepted, not "already lifted".
        lifted = first.lift(detainer_id, LiftIn(lifted_at=T0 + timedelta(hours=1), reason="booked by ICE"), SUPERVISOR)
        assert lifted.lifted_at is not None and lifted.lift_reason == "booked by ICE"
        with pytest.raises(InvalidCommand, match="already lifted"):  # and a real refusal is still a refusal
            second.lift(detainer_id, LiftIn(lifted_at=T0 + timedelta(hours=2), reason="again"), SUPERVISOR)
        assert first.recorder.verify().ok


class TestConcurrencySqlite(ConcurrencySuite):
    @pytest.fixture
    def desk_env(self, env: Env) -> Env:
        return env


@pytest.mark.postgres
class TestConcurrencyPostgres(ConcurrencySuite):
    @pytest.fixture
    def desk_env(self, pg_env: Env) -> Env:
        return pg_env
