"""Erasure leaves no copy of the erased data in the SQLite files: neither in ``-wal`` nor in the database file's free
space (the bytes of each file are searched)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from detainers.ledger import Authority, PersonalData, PersonalStore, Recorder, make_engine, upgrade

T0 = datetime(2024, 3, 8, 19, 0, tzinfo=UTC)
SECRETS = (b"Zyxwvutsonym", b"A987654321", b"17 Synthetic Erasure Lane")


def _files(db: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in db.parent.glob(db.name + "*") if path.is_file()}


def test_erased_personal_data_is_in_no_file_of_the_database(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    store = PersonalStore(Recorder(engine))
    key = store.record(
        PersonalData(
            family_name="Zyxwvutsonym",
            given_names="Testa",
            a_number="A987654321",
            addresses=("17 Synthetic Erasure Lane",),
        ),
        actor="clerk:test",
        authority=Authority.FORM,
        now=T0,
    )
    before = _files(db)
    assert any(secret in content for content in before.values() for secret in SECRETS), "the test must see the data"
    assert SECRETS[0] in before[db.name + "-wal"]  # committed, not yet checkpointed: in the log
    with engine.connect() as reader:  # an idle pooled connection must not keep the log alive
        reader.exec_driver_sql("SELECT count(*) FROM personal_data").scalar()
    store.erase(key, actor="supervisor:s", order_reference="Order 2024-CV-9", reason="expungement", now=T0)
    after = _files(db)
    assert after.get(db.name + "-wal", b"") == b""  # truncated to zero bytes
    for name, content in after.items():
        for secret in SECRETS:
            assert secret not in content, f"{secret!r} still in {name}"
    assert Recorder(engine).verify().ok
    engine.dispose()
