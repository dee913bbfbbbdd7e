"""Write the synthetic Washington-shaped jail export (``jail_charge_lines.csv.gz``) beside this file.

The layout is the public one a university human-rights center published for a Washington jail's bookings: one row
per booking charge line, pipe-separated, gzip-compressed, the booking's own columns (booking time, the booking's
final release time) repeated on every line beside the line's own release time and disposition. Everything in the
file is MADE UP (seeded pseudo-random): booking ids are ``SYN-`` numbers, no person, date or charge is real.

Run ``python tests/data/synthetic/wa_charge_lines/make_fixture.py`` to rebuild it (same bytes every time).
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20181005
BOOKINGS = 420
HEADER = [
    "booking_id",
    "booking_dt",
    "release_dt",
    "cause_num",
    "booking_charge_desc",
    "booking_charge_txt",
    "charge_release_dt",
    "release_disposition_desc",
    "race_desc",
    "gender_desc",
]
FMT = "%Y-%m-%d %H:%M:%S"

# charge text -> weight (texts the crosswalk knows, some it marks unknown, some it does not list at all)
CHARGES = {
    "ASLT 2": 4,
    "ASLT 3": 5,
    "ASLT 4": 10,
    "ASLT 4 /DV": 6,
    "BURGLARY 2": 4,
    "CRIM TRESP 2": 6,
    "THEFT 2": 5,
    "THEFT 3": 8,
    "DUI": 12,
    "DWLS 3": 10,
    "VUCSA POSS": 7,
    "ROBBERY 1": 2,
    "MAL MISCH 3, DV": 3,
    "VIO NO CONTACT ORDER": 5,
    "OBSTRUCTING": 4,
    "FTA WARRANT": 6,
    "COMM CUSTODY JAIL": 5,
    "ALT ID MARKS": 1,  # the crosswalk's category: unknown
    "LITTERING 2": 1,  # not in the crosswalk
}
DISPOSITIONS = ["Bail", "PR", "Time Served", "Dismissed", "Court Order", "Transfer"]
RACES = ["white", "black", "hispanic", "asian/pacific islander", "american indian/alaskan native", "unknown"]


def _lines(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    texts = list(CHARGES)
    weights = list(CHARGES.values())
    start = datetime(2016, 10, 1, 0, 0, 0)
    for number in range(1, BOOKINGS + 1):
        booking_id = f"SYN-{number:05d}"
        booked = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 640))
        has_hold = rng.random() < 0.22
        n = rng.choice([1, 1, 1, 2, 2, 3, 4])
        charges = rng.choices(texts, weights, k=n)
        in_custody = rng.random() < 0.06
        # each line closes on its own; the booking ends at its own release, which may differ from every line
        ends = []
        for _ in charges:
            hours = rng.choice([3, 8, 20, 30, 52, 75, 160, 400, 900, 2200]) * (0.5 + rng.random())
            ends.append(booked + timedelta(hours=hours))
        last = max(ends)
        if has_hold:
            hold_end = last + timedelta(hours=rng.choice([0.5, 6, 30, 47, 60])) if rng.random() < 0.6 else last
            if rng.random() < 0.2:  # ICE cancelled the hold before the other charges ended
                hold_end = booked + (last - booked) / 2
            ends.append(hold_end)
            charges.append("HOLD IMMIGRAT")
        release = max(ends) + timedelta(minutes=rng.choice([0, 0, 5, 40, 180]))
        if rng.random() < 0.08:  # a line entered in error, carrying a release time of its own
            charges.append("ENTRY ERROR")
            ends.append(booked + timedelta(hours=1))
        race, gender = rng.choice(RACES), rng.choice(["male", "male", "male", "female"])
        for seq, (text, end) in enumerate(zip(charges, ends, strict=True), start=1):
            if text == "HOLD IMMIGRAT":
                disposition = "Immigration" if end >= release - timedelta(hours=4) else "Cancel Detainer"
            elif text == "ENTRY ERROR":
                disposition = "Entry Error"
            else:
                disposition = rng.choice(DISPOSITIONS)
            own_release = "" if in_custody else release.strftime(FMT)
            line_end = "" if in_custody and (text == "HOLD IMMIGRAT" or rng.random() < 0.7) else end.strftime(FMT)
            if in_custody and line_end == "":
                disposition = ""
            rows.append(
                [
                    booking_id,
                    booked.strftime(FMT),
                    own_release,
                    f"{number:05d}-{seq}",
                    text,
                    f"Synthetic description of {text.lower()}",
                    line_end,
                    disposition,
                    race,
                    gender,
                ]
            )
    # a few bookings whose repeated release column disagrees on a later line (as exports sometimes do)
    for index in (7, 61, 233):
        booking = f"SYN-{index:05d}"
        lines = [r for r in rows if r[0] == booking]
        if len(lines) > 1 and lines[-1][2]:
            lines[-1][2] = (datetime.strptime(lines[-1][2], FMT) + timedelta(hours=26)).strftime(FMT)
    return rows


def build() -> bytes:
    rng = random.Random(SEED)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(_lines(rng))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as handle:
        handle.write(buffer.getvalue().encode("utf-8"))
    return out.getvalue()


if __name__ == "__main__":
    (HERE / "jail_charge_lines.csv.gz").write_bytes(build())
