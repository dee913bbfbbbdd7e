"""What serving a notice records: which rendered PDF (by hash), in which language, from which translation files,
when, by whom, how it was delivered and, for a consent form, the person's answer. No name is ever part of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from detainers.notices._catalog import TranslationUsed
from detainers.notices._render import RenderedNotice

__all__ = ["ConsentAnswer", "Delivery", "NoticeServed"]


class Delivery(StrEnum):
    IN_PERSON = "in_person"
    MAIL = "mail"
    EMAIL = "email"
    FAX = "fax"
    ATTORNEY_VISIT = "attorney_visit"


class ConsentAnswer(StrEnum):
    """The person's answer on an interview consent form."""

    CONSENTED = "consented"
    DECLINED = "declined"
    ASKED_FOR_COUNSEL = "asked_for_counsel"  # only with their attorney present


class NoticeServed(BaseModel):
    """A served notice, ready to be a ledger event's payload (the ledger adds the detainer's stream and the actor)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: str
    kind: str
    rule: str
    recipient: str  # subject | attorney_or_designee
    form: Literal["notice", "consent"]
    language: str
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    translations: tuple[TranslationUsed, ...] = Field(min_length=1)
    served_at: AwareDatetime
    served_by: str = Field(min_length=1)  # a staff user id, not a name printed anywhere else
    delivered: Delivery
    answer: ConsentAnswer | None = None

    @model_validator(mode="after")
    def _answer_fits_the_form(self) -> NoticeServed:
        if self.form == "consent" and self.answer is None:
            raise ValueError(
                "a consent form is served with the person's answer (consented, declined, asked_for_counsel)"
            )
        if self.form == "notice" and self.answer is not None:
            raise ValueError("only a consent form records an answer")
        return self

    @classmethod
    def of(
        cls,
        rendered: RenderedNotice,
        *,
        served_at: AwareDatetime,
        served_by: str,
        delivered: Delivery,
        answer: ConsentAnswer | None = None,
    ) -> NoticeServed:
        return cls(
            template=rendered.template,
            kind=rendered.kind,
            rule=rendered.rule,
            recipient=rendered.recipient,
            form=rendered.form,
            language=rendered.language,
            pdf_sha256=rendered.sha256,
            translations=rendered.translations,
            served_at=served_at,
            served_by=served_by,
            delivered=delivered,
            answer=answer,
        )
