"""A realistic live jail for the demo: obviously synthetic people in the reference scenarios' jurisdictions,
detainers arriving, eligibility coming and deadlines coming due relative to now.

Names are drawn from a list of placeholder words ("Sample", "Example", …) and A-numbers from a reserved-looking
``A0000…`` range, so nobody can mistake the demo for real people.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from detainers.clock import Clock, SystemClock
from detainers.desk import (
    Actor,
    Authority,
    ChargeIn,
    ConvictionIn,
    Desk,
    Office,
    database_url,
    effective_decision,
    make_engine,
    parse_utc,
    release_breach,
    transfer_breach,
    upgrade,
)
from detainers.service._auth import TokenStore
from detainers.service._roles import Role
from detainers.service._schemas import (
    BookingIn,
    DetainerIn,
    EligibilityIn,
    LiftIn,
    LinkIn,
    ReleaseIn,
    ServedIn,
    SubjectIn,
    TransferIn,
)

__all__ = ["DEMO_JAILS", "DEMO_OFFICES", "DemoResult", "load_demo", "simulate_arrivals"]


@dataclass(frozen=True)
class _Jail:
    jurisdiction: str
    facility: str
    timezone: str
    office: str
    misdemeanors: tuple[str, ...]
    felonies: tuple[str, ...]


DEMO_JAILS = (
    _Jail(
        "us/ca/los-angeles/lasd",
        "Men's Central Jail (demo)",
        "America/Los_Angeles",
        "ERO-LOS",
        ("PC 484(a)", "VC 23152(a)", "PC 647(f)"),
        ("PC 459", "PC 245(a)(1)", "HS 11352"),
    ),
    _Jail(
        "us/ca/orange",
        "Intake Release Center (demo)",
        "America/Los_Angeles",
        "ERO-LOS",
        ("PC 484(a)", "VC 14601.1(a)"),
        ("PC 459", "PC 211"),
    ),
    _Jail(
        "us/tx/harris",
        "Joint Processing Center (demo)",
        "America/Chicago",
        "ERO-HOU",
        ("PC 31.03", "PC 49.04", "PC 22.01(a)(1)"),
        ("PC 29.02", "HSC 481.112"),
    ),
    _Jail(
        "us/tx/travis",
        "Travis County Correctional Complex (demo)",
        "America/Chicago",
        "ERO-SNA",
        ("PC 49.04", "PC 31.03"),
        ("PC 22.02", "PC 30.02"),
    ),
    _Jail(
        "us/il/cook",
        "Cook County Jail (demo)",
        "America/Chicago",
        "ERO-CHI",
        ("720 ILCS 5/16-25", "625 ILCS 5/11-501"),
        ("720 ILCS 5/12-3.05", "720 ILCS 5/19-1"),
    ),
    _Jail(
        "us/ga/fulton",
        "Fulton County Jail (demo)",
        "America/New_York",
        "ERO-ATL",
        ("OCGA 16-8-2", "OCGA 40-6-391"),
        ("OCGA 16-5-21", "OCGA 16-7-1"),
    ),
)

DEMO_OFFICES = (
    ("ERO-LOS", "ERO Los Angeles (demo)"),
    ("ERO-HOU", "ERO Houston (demo)"),
    ("ERO-SNA", "ERO San Antonio (demo)"),
    ("ERO-CHI", "ERO Chicago (demo)"),
    ("ERO-ATL", "ERO Atlanta (demo)"),
)

_FAMILY = ("Sample", "Example", "Placeholder", "Testcase", "Fixture", "Dummy", "Mockingbird", "Synthetic", "Demo")
_GIVEN = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo")
_COUNTRIES = ("Mexico", "Guatemala", "Honduras", "El Salvador", "India", "China", "Philippines", "Canada")


@dataclass
class DemoResult:
    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    bookings: int = 0
    detainers: int = 0
    events: int = 0


def load_demo(
    db: str,
    *,
    size: int = 120,
    seed: int = 2024,
    clock: Clock | None = None,
    office_email_domain: str = "ice.invalid",
) -> DemoResult:
    """Fill the database at ``db`` (already empty) with a live jail and one token per role."""
    url = database_url(db)
    engine = make_engine(url)
    upgrade(engine)
    try:
        clock = clock or SystemClock()
        desk = Desk(engine, clock=clock)
        rng = random.Random(seed)
        now = clock.now()
        for code, name in DEMO_OFFICES:
            desk.register_office(Office(code, name, email=f"{code.lower()}@{office_email_domain}"))
        loader = Actor("import:demo-loader", "clerk", channel=Authority.IMPORT)
        result = DemoResult(url=url)
        for n in range(size):
            jail = DEMO_JAILS[n % len(DEMO_JAILS)]
            _one_booking(desk, rng, jail, n, now, loader, result)
        tokens = TokenStore(engine)
        for role in Role:
            office = "ERO-LOS" if role is Role.ICE_LIAISON else None
            result.tokens[role.value], _ = tokens.create(role, label=f"demo {role.value}", now=now, office=office)
        result.events = desk.ledger_head()[0]
        return result
    finally:
        engine.dispose()


def _one_booking(
    desk: Desk, rng: random.Random, jail: _Jail, n: int, now: datetime, actor: Actor, result: DemoResult
) -> None:
    booked = now - timedelta(days=rng.uniform(0.5, 20))
    felony = rng.random() < 0.35
    statute = rng.choice(jail.felonies if felony else jail.misdemeanors)
    convictions = []
    if rng.random() < 0.45:
        prior = rng.choice(jail.felonies + jail.misdemeanors)
        years = rng.randint(1, 18)
        convictions.append(
            ConvictionIn(
                statute=prior,
                level="felony" if prior in jail.felonies else "misdemeanor",
                date=date(now.year - years, rng.randint(1, 12), rng.randint(1, 28)),
                jurisdiction=jail.jurisdiction,
            )
        )
    subject = SubjectIn(
        family_name=f"{rng.choice(_FAMILY)}-{n:03d}",
        given_names=rng.choice(_GIVEN),
        date_of_birth=date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        a_number=f"A000{rng.randint(0, 99999):05d}",
        citizenship=rng.choice(_COUNTRIES),
        addresses=(f"{rng.randint(1, 999)} Example Street, Demo City",),
    )
    booking = desk.open_booking(
        BookingIn(
            booking_number=f"{jail.jurisdiction.split('/')[-1][:4].upper()}-{booked:%y}-{10000 + n}",
            facility=jail.facility,
            jurisdiction=jail.jurisdiction,
            timezone=jail.timezone,
            booked_at=booked,
            charges=[ChargeIn(statute=statute, level="felony" if felony else "misdemeanor")],
            convictions=convictions,
            subject=subject,
            source=Authority.IMPORT,
        ),
        actor,
    )
    result.bookings += 1
    if rng.random() < 0.25:
        return  # no detainer on this one: an unrelated booking
    received = booked + timedelta(hours=rng.uniform(2, 30))
    if received > now:
        received = now - timedelta(minutes=rng.randint(5, 120))
    form = "I-247A" if rng.random() < 0.9 else "I-247G"
    detainer = desk.receive_detainer(
        DetainerIn(
            form=form,
            office=jail.office,
            received_at=received,
            issued_on=received.date(),
            warrant=rng.choice(("I-200", "I-200", "I-205", "none")),
            pc_basis=[rng.choice(("biometric_records", "final_order", "pending_proceedings"))],
            ice_subject_id=f"DEMO-{rng.randint(100000, 999999)}",
            ice_event_no=f"EVT-DEMO-{n:05d}",
            notify_phone="(802) 872-6020",
            source=Authority.FORM,
        ),
        Actor("import:demo-loader", "clerk", channel=Authority.IMPORT),
    )
    result.detainers += 1
    desk.link(detainer.id, LinkIn(booking_id=booking.id), actor)
    if rng.random() < 0.8:
        desk.serve(detainer.id, ServedIn(served_at=received + timedelta(hours=rng.uniform(0.5, 6))), actor)
    roll = rng.random()
    if roll < 0.08:
        desk.lift(detainer.id, LiftIn(lifted_at=received + timedelta(days=1), reason="Prosecutorial Discretion"), actor)
        return
    stage = rng.random()
    if stage < 0.35:
        # eligible in the last two days: holds running out, some already over their limit
        eligible = now - timedelta(hours=rng.uniform(1, 50))
    elif stage < 0.7:
        # eligible in the coming days: notices and deadlines coming due while the demo runs
        eligible = now + timedelta(hours=rng.uniform(0.2, 96))
    else:
        return  # case pending; no release date yet
    eligible = max(eligible, booked + timedelta(hours=1))
    reason = rng.choice(("bond_posted", "time_served", "own_recognizance", "dismissed"))
    decided = desk.record_eligibility(booking.id, EligibilityIn(eligible_at=eligible, reason=reason), actor)
    if eligible < now and rng.random() < 0.75:  # most leave on time; the rest are the desk's alarms
        # ICE picks the person up where the law lets the jail hand them over; elsewhere they walk out
        picked_up = rng.random() < 0.5  # drawn first either way, so the demo's other draws stay as they were
        if picked_up and transfer_breach(decided) is None:
            desk.transfer(
                booking.id, TransferIn(transferred_at=eligible + timedelta(hours=2), to_agency="ICE ERO"), actor
            )
        else:
            released = eligible + timedelta(hours=1)
            if release_breach(decided, released, "public") is not None:  # a hold the law requires runs out first
                hold_until = effective_decision(decided).get("hold_until")
                released = max(released, parse_utc(str(hold_until))) if hold_until else released
            if released <= now:
                desk.release(booking.id, ReleaseIn(released_at=released), actor)


def simulate_arrivals(db: str, stop: threading.Event, *, every_seconds: float = 30.0, seed: int = 7) -> None:
    """Keep the demo jail live: every ``every_seconds`` a new booking arrives, most with a detainer."""
    engine = make_engine(database_url(db))
    log = logging.getLogger("detainers.demo")
    try:
        desk = Desk(engine)
        rng = random.Random(seed)
        actor = Actor("import:demo-arrivals", "clerk", channel=Authority.IMPORT)
        n = 100_000 + desk.list_bookings(limit=1)[1]  # booking numbers are unique: go on after the ones there
        while not stop.wait(every_seconds):
            n += 1
            jail = DEMO_JAILS[n % len(DEMO_JAILS)]
            result = DemoResult(url="")
            try:
                _one_booking(desk, rng, jail, n, desk.now(), actor, result)
            except Exception:  # noqa: BLE001 - the demo keeps going; the error is logged
                log.exception("demo arrival failed")
                continue
            log.info("demo arrival", extra={"bookings": result.bookings, "detainers": result.detainers})
    finally:
        engine.dispose()
