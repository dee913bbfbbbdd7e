"""Roles and what each may do. Routes ask for a permission; this table says which roles hold it."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ROLE_PERMISSIONS", "Permission", "Role", "allowed"]


class Role(StrEnum):
    CLERK = "clerk"  # intake, record events
    SUPERVISOR = "supervisor"  # clerk + corrections, policy overrides, erasure
    ICE_LIAISON = "ice_liaison"  # one agency office: its own detainers and the notices owed to it
    AUDITOR = "auditor"  # reads everything, verifies the chain; personal data only with a logged purpose
    PUBLIC = "public"  # aggregate counts, small cells suppressed


class Permission(StrEnum):
    DETAINER_SUBMIT = "detainer:submit"
    DETAINER_READ = "detainer:read"
    DETAINER_RECORD = "detainer:record"  # served, link
    DETAINER_LIFT = "detainer:lift"
    ATTACHMENT_ADD = "attachment:add"
    BOOKING_WRITE = "booking:write"
    BOOKING_READ = "booking:read"
    DECISION_READ = "decision:read"
    NOTIFICATION_RECORD = "notification:record"
    CORRECT = "correct"
    OVERRIDE = "override"
    PERSON_READ = "person:read"
    PERSON_ERASE = "person:erase"
    AUDIT_VERIFY = "audit:verify"
    AUDIT_READ = "audit:read"
    ALERTS_READ = "alerts:read"
    COUNTS_READ = "counts:read"
    REPORTS_READ = "reports:read"
    OFFICES_READ = "offices:read"
    WHOAMI = "whoami"


_CLERK = {
    Permission.DETAINER_SUBMIT,
    Permission.DETAINER_READ,
    Permission.DETAINER_RECORD,
    Permission.DETAINER_LIFT,
    Permission.ATTACHMENT_ADD,
    Permission.BOOKING_WRITE,
    Permission.BOOKING_READ,
    Permission.DECISION_READ,
    Permission.NOTIFICATION_RECORD,
    Permission.PERSON_READ,
    Permission.ALERTS_READ,
    Permission.COUNTS_READ,
    Permission.OFFICES_READ,
    Permission.WHOAMI,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CLERK: frozenset(_CLERK),
    Role.SUPERVISOR: frozenset(
        _CLERK
        | {
            Permission.CORRECT,
            Permission.OVERRIDE,
            Permission.PERSON_ERASE,
            Permission.AUDIT_VERIFY,
            Permission.REPORTS_READ,
        }
    ),
    Role.ICE_LIAISON: frozenset(
        {
            Permission.DETAINER_SUBMIT,
            Permission.DETAINER_READ,
            Permission.DETAINER_LIFT,
            Permission.ATTACHMENT_ADD,
            Permission.DECISION_READ,
            Permission.COUNTS_READ,
            Permission.WHOAMI,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            Permission.DETAINER_READ,
            Permission.BOOKING_READ,
            Permission.DECISION_READ,
            Permission.PERSON_READ,
            Permission.AUDIT_VERIFY,
            Permission.AUDIT_READ,
            Permission.ALERTS_READ,
            Permission.COUNTS_READ,
            Permission.REPORTS_READ,
            Permission.OFFICES_READ,
            Permission.WHOAMI,
        }
    ),
    Role.PUBLIC: frozenset({Permission.COUNTS_READ, Permission.WHOAMI}),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
