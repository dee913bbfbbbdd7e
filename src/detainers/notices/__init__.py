"""Notices and consent forms the person must be given, rendered per decision to PDF in the languages the law names.

Uses domain and law only (never the service or the web): the desk, the API and the ledger call :func:`render_notice`
and record :class:`NoticeServed`.
"""

from detainers.notices._catalog import (
    DRAFT_STATUS,
    LANGUAGE_NAMES,
    Catalog,
    NoticeError,
    Translation,
    TranslationUsed,
    load_catalog,
    satisfies,
)
from detainers.notices._owed import OwedNotice, notices_owed
from detainers.notices._render import PLACEHOLDER_NAME, RenderedNotice, Subject, render_notice
from detainers.notices._served import ConsentAnswer, Delivery, NoticeServed

__all__ = [
    "Catalog",
    "ConsentAnswer",
    "Delivery",
    "DRAFT_STATUS",
    "LANGUAGE_NAMES",
    "load_catalog",
    "NoticeError",
    "notices_owed",
    "NoticeServed",
    "OwedNotice",
    "PLACEHOLDER_NAME",
    "render_notice",
    "RenderedNotice",
    "satisfies",
    "Subject",
    "Translation",
    "TranslationUsed",
]
