"""Need-to-know on the web desk: role × decision kind × field over the detainer page and the dashboard rows. The
pages use the same redaction as the API (``detainers.service._need_to_know``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from detainers.desk import BookingIn, DetainerIn, EligibilityIn, LinkIn, OverrideIn
from detainers.ledger import Authority, ChargeIn, ConvictionIn
from detainers.service import Actor

from .conftest import LOADER, T0, WebEnv

ELIGIBLE = T0 + timedelta(hours=6, minutes=47)  # release times end in :47 (and countdowns in 47 min)
TIMING = re.compile(r":47\b|47 min")
STAFF = ("clerk", "supervisor", "auditor")
FIELDS = ("timing", "custody", "explanation", "criminal_history", "other_office")
SUPERVISOR = Actor("supervisor:test", "supervisor")


def _case(web: WebEnv, name: str, jurisdiction: str, zone: str, *, peer: bool = False) -> tuple[str, str, str]:
    desk = web.services.desk
    booking = desk.open_booking(
        BookingIn(
            booking_number=f"BK-{name}",
            facility=f"Facility {name}",
            jurisdiction=jurisdiction,
            timezone=zone,
            booked_at=T0 - timedelta(days=1),
            charges=[ChargeIn(statute="PC 459", level="felony")],
            convictions=[ConvictionIn(statute="PC 187", level="felony", date=datetime(2015, 1, 1).date())],
            source=Authority.IMPORT,
        ),
        LOADER,
    )
    own = desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-LOS",
            received_at=T0 - timedelta(hours=20),
            warrant="I-200",
            pc_basis=["biometric_records"],
            ice_event_no=f"EVT-{name}",
            source=Authority.FORM,
        ),
        LOADER,
    )
    desk.link(own.id, LinkIn(booking_id=booking.id), LOADER)
    other = ""
    if peer:
        other = desk.receive_detainer(
            DetainerIn(
                form="I-247A",
                office="ERO-HOU",
                received_at=T0 - timedelta(hours=19, minutes=30),  # after ours: the operative detainer
                warrant="I-205",
                pc_basis=["final_order"],
                ice_event_no=f"EVT-{name}-HOU",
                source=Authority.API,
            ),
            LOADER,
        ).id
        desk.link(other, LinkIn(booking_id=booking.id), LOADER)
    desk.record_eligibility(booking.id, EligibilityIn(eligible_at=ELIGIBLE, reason="bond_posted"), LOADER)
    return booking.id, own.id, other


def _cases(web: WebEnv) -> dict[str, tuple[str, str]]:
    """kind -> (the ERO-LOS detainer, the other office's detainer on its booking or '')."""
    out = {}
    for kind, jurisdiction, zone in (
        ("notify_allowed", "us/ga/fulton", "America/New_York"),
        ("notify_required", "us/tx/harris", "America/Chicago"),
        ("notify_forbidden", "us/ca/los-angeles/lasd", "America/Los_Angeles"),
        ("notify_allowed_by_conviction", "us/ca/orange", "America/Los_Angeles"),
    ):
        _b, own, _ = _case(web, kind, jurisdiction, zone)
        out[kind] = (own, "")
    booking, flipped, _ = _case(web, "override", "us/ga/fulton", "America/New_York")
    web.services.desk.override(booking, OverrideIn(notify=False, reason="county counsel says no"), SUPERVISOR)
    out["notify_forbidden_by_override"] = (flipped, "")
    _b, shared, other = _case(web, "peer", "us/ga/fulton", "America/New_York", peer=True)
    out["notify_allowed_with_other_office"] = (shared, other)
    return out


def _row(page: str, detainer_id: str) -> str:
    found = re.search(rf'<tr[^>]*data-detainer="{detainer_id}".*?</tr>', page, re.S)
    return found.group(0) if found else ""


def _visible(text: str) -> str:
    """The page without its markup (attribute values such as ISO datetimes are checked separately)."""
    return re.sub(r"<[^>]+>", " ", text)


def expected(role: str, kind: str, field: str) -> bool:
    if role in STAFF:
        return field != "other_office" or kind == "notify_allowed_with_other_office"
    if kind.startswith("notify_forbidden"):
        return False
    if field in ("timing", "custody"):
        return True
    if field == "explanation":
        return kind != "notify_allowed_with_other_office"
    return False


def test_pages_by_role_and_decision_kind_and_field(web: WebEnv) -> None:
    cases = _cases(web)
    failures = []
    for role in (*STAFF, "ice_liaison"):
        client = web.client(role)
        board = client.get("/desk").text + client.get("/desk/rows").text
        for kind, (detainer_id, other) in cases.items():
            page = client.get(f"/detainers/{detainer_id}")
            assert page.status_code == 200, (role, kind)
            html = page.text + _row(board, detainer_id)
            assert _row(board, detainer_id), (role, kind, "every open detainer has a row")
            text = _visible(html)
            shown = {
                "timing": bool(TIMING.search(text)) or bool(re.search(r'datetime="[^"]*T\d\d:47', html)),
                "custody": any(m in text for m in ("In custody", "Facility ", "BK-")),
                "explanation": any(m in text for m in ("48 hours before release", "48 elapsed hours", "release at")),
                "criminal_history": "PC 187" in text,
                "other_office": bool(other) and (other in html or "I-205" in text),
            }
            for field in FIELDS:
                if shown[field] != expected(role, kind, field):
                    failures.append(f"{role} × {kind} × {field}: {'shown' if shown[field] else 'hidden'}")
    assert failures == []


def test_a_liaisons_not_shared_rows_sort_and_count_like_unlinked_ones(web: WebEnv) -> None:
    """The dashboard's order, overdue count and filters must not tell a forbidden detainer's timing."""
    cases = _cases(web)
    web.clock.set(ELIGIBLE + timedelta(hours=1))  # every release is now past due
    client = web.client("ice_liaison")
    page = client.get("/desk").text
    order = re.findall(r'data-detainer="([0-9a-f]+)"', page)
    forbidden = {cases["notify_forbidden"][0], cases["notify_forbidden_by_override"][0], web.ids["la"]}
    shared = {
        cases[k][0]
        for k in (
            "notify_allowed",
            "notify_required",
            "notify_allowed_with_other_office",
            "notify_allowed_by_conviction",
        )
    }
    assert set(order) == forbidden | shared
    assert set(order[: len(shared)]) == shared, "rows with a deadline first, then the rest by when ICE sent them"
    for ident in forbidden:
        row = _row(page, ident)
        assert "Overdue" not in row and "countdown" not in row and "Facility" not in row
        assert "Link to a booking" in row or "No deadline" in row
    overdue = client.get("/desk", params={"status": "overdue"}).text
    assert not forbidden & set(re.findall(r'data-detainer="([0-9a-f]+)"', overdue))
    active = client.get("/desk", params={"status": "active"}).text
    assert set(re.findall(r'data-detainer="([0-9a-f]+)"', active)) == shared
    stats = re.search(r'<span class="stat-n">(\d+)</span><span class="stat-l">overdue', page)
    assert stats and int(stats.group(1)) <= len(shared)
    # a released person's forbidden detainer stays on the liaison's board as it was (release is a custody fact)
    desk = web.services.desk
    booking_id = desk.detainer(cases["notify_forbidden"][0]).booking_id
    assert booking_id is not None
    from detainers.desk import ReleaseIn

    desk.release(booking_id, ReleaseIn(released_at=web.clock.now() - timedelta(minutes=5)), LOADER)
    again = client.get("/desk").text
    assert cases["notify_forbidden"][0] in again
    assert "Released" not in _row(again, cases["notify_forbidden"][0])


def test_another_offices_detainer_page_is_the_unknown_page(web: WebEnv) -> None:
    client = web.client("ice_liaison")
    real = client.get(f"/detainers/{web.ids['hou']}")
    made_up = client.get(f"/detainers/{'0' * 32}")
    assert real.status_code == made_up.status_code == 404
    assert real.text.replace(web.ids["hou"], "ID") == made_up.text.replace("0" * 32, "ID")
    csrf = web.csrf(client)
    answers = []
    for ident in (web.ids["hou"], "0" * 32):
        response = client.post(
            f"/detainers/{ident}/actions/lift", data={"csrf": csrf, "lifted_at": "2024-03-08T10:00", "reason": "x"}
        )
        answers.append((response.status_code, response.text.replace(ident, "ID")))
    assert answers[0] == answers[1] and answers[0][0] == 404


def test_the_liaison_page_for_a_forbidden_detainer_names_no_time_at_all(web: WebEnv) -> None:
    """The seeded Los Angeles detainer: SB 54 forbids notice, so the page shows the request and nothing else."""
    page = web.client("ice_liaison").get(f"/detainers/{web.ids['la']}").text
    text = _visible(page)
    assert "nothing about custody, release timing or the decision is shown to ICE" in text
    assert "Men's Central Jail" not in text and "In custody" not in text and "Served on the person" not in text
    assert "Release due" not in text and "Hold" not in text and "Linked to a booking" not in text
    assert "us/ca/los-angeles" not in page  # (times are shown in the desk's own zone, not the facility's)
    release = (T0 + timedelta(hours=6)).astimezone(UTC)
    assert release.strftime("%H:%M") not in text and "22:00" not in text  # 14:00 PST eligibility, either way
