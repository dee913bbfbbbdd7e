"""Detainer form versions and the parser for ICE's data labels (DHS Forms I-247 to I-247G)."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

__all__ = ["DetainerForm", "FormLabelError", "Request", "default_requests", "parse_form"]


class DetainerForm(StrEnum):
    """Every printing of the detainer form that has legal effect of its own."""

    I247_PRE2012 = "I-247 (before Dec 2012)"
    I247_DEC2012 = "I-247 (Dec 2012)"
    I247D_2015 = "I-247D"
    I247N_2015 = "I-247N"
    I247X_2015 = "I-247X"
    I247A_2017 = "I-247A"
    I247A_2025 = "I-247A (May 2025)"
    I247G_2025 = "I-247G"

    @property
    def code(self) -> str:
        return self.name


class Request(StrEnum):
    """What a detainer asks of the jail."""

    NOTIFY = "notify"
    HOLD = "hold"
    TRANSFER = "transfer"


# What each printed form asks for when its request boxes are not given (read on the forms, I-247 to I-247G).
_DEFAULT_REQUESTS: dict[DetainerForm, frozenset[Request]] = {
    DetainerForm.I247_PRE2012: frozenset({Request.NOTIFY, Request.HOLD}),
    DetainerForm.I247_DEC2012: frozenset({Request.NOTIFY, Request.HOLD}),
    DetainerForm.I247D_2015: frozenset({Request.NOTIFY, Request.HOLD}),
    DetainerForm.I247N_2015: frozenset({Request.NOTIFY}),
    DetainerForm.I247X_2015: frozenset({Request.NOTIFY, Request.HOLD, Request.TRANSFER}),
    DetainerForm.I247A_2017: frozenset({Request.NOTIFY, Request.HOLD}),
    DetainerForm.I247A_2025: frozenset({Request.NOTIFY, Request.HOLD}),
    DetainerForm.I247G_2025: frozenset({Request.NOTIFY}),
}

# ICE's December 2012 detainer guidance revised the I-247 (ICE memorandum of 2012-12-21).
DEC2012_PRINTING = date(2012, 12, 21)
MAY2025_PRINTING = date(2025, 5, 1)


class FormLabelError(ValueError):
    """A form name or ICE data label that names no known detainer form."""


def default_requests(form: DetainerForm) -> frozenset[Request]:
    return _DEFAULT_REQUESTS[form]


_LETTER = re.compile(r"^I-?\s?247\s*([ADNXG]?)\b", re.IGNORECASE)


def parse_form(label: str, *, version_date: date | None = None, received_on: date | None = None) -> DetainerForm:
    """Read a form name (``I-247A``) or an ICE data label into a :class:`DetainerForm`.

    ``version_date`` names the printing when the label alone does not (the I-247 before or after
    the Dec-2012 revision, the I-247A before or after May 2025); without it the receipt date decides.

    >>> parse_form("I247A - Immigration Detainer - Notice of Action (as of May 2025)").code
    'I247A_2025'
    >>> parse_form("I-247", version_date=date(2012, 12, 21)).code
    'I247_DEC2012'
    """
    text = " ".join(label.strip().split())
    for member in DetainerForm:
        # "I-247A" and "I-247" name more than one printing: the dates below decide those.
        dated = member in (DetainerForm.I247A_2017, DetainerForm.I247_PRE2012) and text == member.value
        if (text == member.value or text.upper() == member.name) and not dated:
            return member
    match = _LETTER.match(text)
    if match is None:
        raise FormLabelError(
            f"unknown detainer form {label!r}; expected I-247, I-247D, I-247N, I-247X, I-247A or I-247G"
        )
    letter = match.group(1).upper()
    lowered = text.lower()
    when = version_date or received_on
    if letter == "":
        if "prior to march 2013" in lowered:
            return DetainerForm.I247_PRE2012
        if "as of march 2013" in lowered:
            return DetainerForm.I247_DEC2012
        if when is not None and when >= DEC2012_PRINTING:
            return DetainerForm.I247_DEC2012
        return DetainerForm.I247_PRE2012
    if letter == "A":
        # Only the label or an explicit printing date says May 2025: receipt after May 2025 may still be
        # on the 02/17 printing, which ICE says remains valid.
        if "may 2025" in lowered or (version_date is not None and version_date >= MAY2025_PRINTING):
            return DetainerForm.I247A_2025
        return DetainerForm.I247A_2017
    return {
        "D": DetainerForm.I247D_2015,
        "N": DetainerForm.I247N_2015,
        "X": DetainerForm.I247X_2015,
        "G": DetainerForm.I247G_2025,
    }[letter]
