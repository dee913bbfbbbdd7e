"""The detainer page says when a decision rests on fewer layers than the jurisdiction names."""

from __future__ import annotations

from datetime import timedelta

from detainers.desk import BookingIn, DetainerIn, EligibilityIn, LinkIn
from detainers.ledger import Authority, ChargeIn

from .conftest import LOADER, T0, WebEnv

BANNER = "Not every layer of this jurisdiction is encoded."


def _fulton_detainer(web: WebEnv) -> str:
    desk = web.services.desk
    booking = desk.open_booking(
        BookingIn(
            booking_number="FUL-24-0001",
            facility="Fulton County Jail (test)",
            jurisdiction="us/ga/fulton",
            timezone="America/New_York",
            booked_at=T0 - timedelta(days=1),
            charges=[ChargeIn(statute="OCGA 16-8-2", level="misdemeanor")],
            source=Authority.IMPORT,
        ),
        LOADER,
    )
    detainer = desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-LOS",
            received_at=T0 - timedelta(hours=5),
            warrant="I-200",
            pc_basis=["biometric_records"],
            source=Authority.FORM,
        ),
        LOADER,
    )
    desk.link(detainer.id, LinkIn(booking_id=booking.id), LOADER)
    desk.record_eligibility(
        booking.id, EligibilityIn(eligible_at=T0 + timedelta(hours=4), reason="bond_posted"), LOADER
    )
    return detainer.id


def test_a_county_without_a_pack_gets_the_banner_naming_the_layers(web: WebEnv) -> None:
    page = web.client("clerk").get(f"/detainers/{_fulton_detainer(web)}").text
    assert BANNER in page
    # Georgia has a state pack (us/ga); Fulton County has none.
    assert "Only federal and state law are encoded for this jurisdiction; county policy is not" in page
    assert "us/ga (Georgia; not encoded)" not in page
    assert "us/ga/fulton (Fulton County, Georgia; not encoded)" in page


def test_a_fully_encoded_chain_has_no_banner(web: WebEnv) -> None:
    page = web.client("clerk").get(f"/detainers/{web.ids['la']}").text  # us/ca/los-angeles/lasd
    assert "What the law allows now" in page and BANNER not in page


def test_correcting_the_jurisdiction_to_a_typo_is_refused_with_the_suggestion(web: WebEnv) -> None:
    client = web.client("supervisor")
    url = f"/detainers/{web.ids['la']}/actions/correct"
    form = {
        "csrf": web.csrf(client),
        "field": "booking:jurisdiction",
        "value": "us/ca/los-angles/lasd",
        "reason": "x y z",
    }
    review = client.post(url, data=form)
    assert review.status_code == 422
    assert "did you mean us/ca/los-angeles/lasd?" in review.text.replace("&#39;", "'")
    assert web.services.desk.booking(web.ids["booking"]).jurisdiction == "us/ca/los-angeles/lasd"
