"""Which notices a decision owes the person (or their attorney or designee), with what the law requires of each."""

from __future__ import annotations

from dataclasses import dataclass

from detainers.law import PERSON_RECIPIENTS, Decision, Notice, NoticeSpec, PackSet, RuleRef
from detainers.notices._catalog import NoticeError

__all__ = ["OwedNotice", "notices_owed"]


@dataclass(frozen=True)
class OwedNotice:
    """A notice owed to the person or their counsel: the decision's line, the rule behind it, and its pack entry."""

    notice: Notice
    rule: RuleRef
    pack: str  # e.g. us/ca
    spec: NoticeSpec

    @property
    def template(self) -> str:
        return self.spec.template or f"{self.pack}/{self.spec.kind}"

    @property
    def key(self) -> str:
        """Stable name of this notice within a decision (the rule, kind and recipient)."""
        return f"{self.rule.id}:{self.spec.kind}:{self.spec.to}"

    @property
    def citation(self) -> str:
        """What the form prints as its legal basis: the deciding rule's citation (and the requirements', if apart)."""
        text = self.rule.citation
        if self.spec.citation is not None and self.spec.citation.text() not in text:
            text += f"; {self.spec.citation.text()}"
        return text


def _spec(packs: PackSet, rule: RuleRef, notice: Notice) -> tuple[str, NoticeSpec]:
    pack_name, _, version_name = rule.version.partition("@")
    pack = packs.get(pack_name)
    version = next((v for v in pack.versions if v.version == version_name), None) if pack else None
    found = next((r for r in version.rules if r.id == rule.id), None) if version else None
    spec = next((n for n in found.notices if n.kind == notice.kind and n.to == notice.to), None) if found else None
    if spec is None:
        raise NoticeError(
            f"notice {notice.kind} to {notice.to}: rule {rule.id} ({rule.version}) is not in the packs given "
            "(decided under other packs?)"
        )
    return pack_name, spec


def notices_owed(decision: Decision, packs: PackSet) -> tuple[OwedNotice, ...]:
    """The decision's notices addressed to the person or their attorney or designee, each with its pack entry.

    Notices to ICE, DHS or a state office are the outbox's, not the person's: they are left out here.
    """
    refs = {r.id: r for r in reversed(decision.rules)}  # the first firing of a rule id is its deciding version
    owed: list[OwedNotice] = []
    for notice in decision.notices:
        if notice.to not in PERSON_RECIPIENTS:
            continue
        rule = refs.get(notice.rule)
        if rule is None:
            raise NoticeError(f"notice {notice.kind} names rule {notice.rule}, which the decision does not list")
        pack, spec = _spec(packs, rule, notice)
        owed.append(OwedNotice(notice=notice, rule=rule, pack=pack, spec=spec))
    return tuple(owed)
