"""Write three synthetic lists in the shape of a Texas county jail's February 2017 detainer lists.

The county published, for the month its sheriff's new detainer policy took effect (2017-02-01), the bookings with
an ICE detainer (charge code 4200) it had *accepted*, those it had *released* without honouring the detainer
(declined), and those released and then *reinstated* when ICE came back with a warrant — each as a jail report:
a booking line (booking number, race, sex, custody, age, booking and release dates), a charge header, the charge
lines (authority, charge code, charge text, level, disposition date and type), a blank line.

Everything here is MADE UP: booking numbers start with 17, the name column reads SYNTHETIC PERSON, no person or
case is real. Run ``python tests/data/synthetic/travis_feb2017/make_fixture.py`` to rebuild (same bytes).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOKING_HEADER = [
    "Booking No",
    "Booking Name",
    "Race",
    "Sex",
    "Jail Custody",
    "Age",
    "Booking Date",
    "Release Date",
    "Place of Birth",
]
CHARGE_HEADER = [
    "Authority",
    "Charge",
    "Level",
    "Sentence",
    "Level",
    "Sentence",
    "Bond Amount",
    "Disp Date",
    "Disp Type",
]
ICE = ("ICEW", "4200", "ICE DETAINER", "F*")

# (booking no, booking date, release date or "", charges: (authority, code, text, level, disp date, disp type))
Booking = tuple[str, str, str, list[tuple[str, str, str, str, str, str]]]

ACCEPTED: list[Booking] = [
    ("1790001", "2017-01-12", "", [("NEWART", "09990002", "MURDER", "F1", "", "")]),
    ("1790002", "2017-01-20", "", [("NEWART", "11990004", "AGG SEXUAL ASSLT CHILD", "F1", "", "")]),
    (
        "1790003",
        "2017-01-25",
        "",
        [
            ("NEW", "11990003", "AGG SEXUAL ASSLT", "F1", "", ""),
            ("NEW", "54040009", "DRIVING WHILE INTOXICATED", "MB", "", ""),
        ],
    ),
    ("1790004", "2016-12-14", "", [("NEWART", "36010001", "INDECENCY W/CHILD SEXUAL CONTACT", "F2", "", "")]),
    ("1790005", "2017-01-29", "", [("NEWART", "13150005", "AGG ASSLT W/DEADLY WEAPON", "F2", "", "")]),
    (
        "1790006",
        "2017-01-30",
        "2017-02-05",
        [("NEW", "54040009", "DRIVING WHILE INTOXICATED", "MB", "2017-02-03", "BOND-PERSONAL RECOGNIZANCE")],
    ),
    ("1790007", "2017-02-10", "", [("NEWART", "09990002", "MURDER", "F1", "", "")]),
    ("1790008", "2017-01-05", "", [("NEWART", "09990001", "CAPITAL MURDER", "FX", "", "")]),
]
DECLINED: list[Booking] = [
    (
        "1790101",
        "2017-01-31",
        "2017-02-01",
        [("NEW", "54040009", "DRIVING WHILE INTOXICATED", "MB", "2017-02-01", "BOND-PERSONAL RECOGNIZANCE")],
    ),
    (
        "1790102",
        "2017-02-02",
        "2017-02-03",
        [("NEW", "13990031", "ASSLT CAUSES BODILY INJ:FAMILY MEMBER (MA)", "MA", "2017-02-03", "BOND-SURETY")],
    ),
    (
        "1790103",
        "2017-02-04",
        "2017-02-04",
        [("NEW", "41990001", "PUBLIC INTOXICATION", "MC", "2017-02-04", "RELEASED TO PAY")],
    ),
    (
        "1790104",
        "2017-02-06",
        "2017-02-08",
        [
            ("NEW", "35990014", "POSS CS PG1<1G (FS)", "FS", "2017-02-08", "BOND-SURETY"),
            ("NEW", "35620008", "POSS MARIJ <2OZ (MB)", "MB", "2017-02-08", "BOND-SURETY"),
        ],
    ),
    (
        "1790105",
        "2017-02-07",
        "2017-02-09",
        [("NEW", "23990013", "THEFT>=$50<$500(B)", "MB", "2017-02-09", "BOND-PERSONAL RECOGNIZANCE")],
    ),
    (
        "1790106",
        "2017-02-11",
        "2017-02-12",
        [("NEW", "11990003", "AGG SEXUAL ASSLT", "F1", "2017-02-12", "BOND-SURETY")],
    ),
    (
        "1790107",
        "2017-02-13",
        "2017-02-14",
        [("NEW", "88888888", "CRUELTY TO NON-LIVESTOCK ANIMAL", "MA", "2017-02-14", "BOND-SURETY")],
    ),
    ("1790108", "2017-01-27", "", [("NEW", "22990004", "BURGLARY OF VEHICLE", "MA", "", "")]),
    (
        "1790109",
        "2017-01-18",
        "2017-02-02",
        [("NEW", "54040011", "DRIVING WHILE INTOXICATED 3RD OR MORE", "F3", "2017-02-02", "BOND-SURETY")],
    ),
]
REINSTATED: list[Booking] = [
    (
        "1790109",
        "2017-01-18",
        "",
        [("REIN", "54040011", "DRIVING WHILE INTOXICATED 3RD OR MORE", "F3", "", "")],
    ),
    ("1790201", "2017-01-22", "", [("REIN", "09990002", "MURDER", "F1", "", "")]),
]


def _report(bookings: list[Booking], released_as: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BOOKING_HEADER)
    for number, (booking, booked, released, charges) in enumerate(bookings, start=1):
        custody = "RELEASED" if released else "IN CUSTODY"
        person = f"SYNTHETIC PERSON {booking[-3:]}"
        writer.writerow([booking, person, "W", "M", custody, str(20 + number), booked, released, "Synthetic Place"])
        writer.writerow(CHARGE_HEADER)
        for authority, code, text, level, disp_on, disp in charges:
            writer.writerow([authority, code, text, "", level, "", "", disp_on, disp])
        ice_disp = released_as if released else ""
        writer.writerow([*ICE[:3], "", ICE[3], "", "", released if released else "", ice_disp])
        writer.writerow([""] * len(CHARGE_HEADER))
    return buffer.getvalue().encode("utf-8")


def build() -> dict[str, bytes]:
    return {
        "ice_4200_accepted_01feb2017.csv": _report(ACCEPTED, "RELEASED TO ICE"),
        "ice_4200_released_as_r217.csv": _report(DECLINED, "RELEASED AS R217"),
        "ice_4200_released_and_reinstated.csv": _report(REINSTATED, "RELEASED TO ICE"),
    }


if __name__ == "__main__":
    for name, data in build().items():
        (HERE / name).write_bytes(data)
