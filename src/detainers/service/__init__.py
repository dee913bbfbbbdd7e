"""The detainer desk as a service: REST API, roles, deadline worker, outbox and notifiers."""

from detainers.service import _need_to_know as need_to_know
from detainers.service._against import (
    AgainstDecisionRefused,
    Breach,
    notify_breach,
    release_breach,
    to_immigration,
    transfer_breach,
)
from detainers.service._app import Services, Settings, build_services, create_app
from detainers.service._asgi import app_from_env
from detainers.service._auth import Principal, TokenStore
from detainers.service._demo import load_demo, simulate_arrivals
from detainers.service._desk import Actor, Decider, Desk, Office, default_decider, effective_decision
from detainers.service._errors import DeskError, Forbidden, InvalidCommand, NotFound, PolicyUnavailable
from detainers.service._idempotency import Claim, IdempotencyStore, check_key, fingerprint, run_once
from detainers.service._keys import Duplicate
from detainers.service._logging import JsonFormatter, configure_logging
from detainers.service._notifiers import DeliveryError, Notice, Notifier, SmtpNotifier, WebhookNotifier
from detainers.service._outbox import Outbox, OutboxItem
from detainers.service._public import UNLINKED, public_counts
from detainers.service._roles import ROLE_PERMISSIONS, Permission, Role, allowed
from detainers.service._schemas import (
    AttachmentIn,
    CorrectionIn,
    DetainerIn,
    LiftIn,
    LinkIn,
    ManualNotificationIn,
    ReleaseIn,
    ServedIn,
    SubjectIn,
    TransferIn,
)
from detainers.service._worker import Worker, WorkerReport

__all__ = [
    "Actor",
    "AgainstDecisionRefused",
    "AttachmentIn",
    "Breach",
    "Claim",
    "CorrectionIn",
    "Decider",
    "DeliveryError",
    "Desk",
    "DeskError",
    "DetainerIn",
    "Duplicate",
    "Forbidden",
    "IdempotencyStore",
    "InvalidCommand",
    "JsonFormatter",
    "LiftIn",
    "LinkIn",
    "ManualNotificationIn",
    "NotFound",
    "Notice",
    "Notifier",
    "Office",
    "Outbox",
    "OutboxItem",
    "Permission",
    "PolicyUnavailable",
    "Principal",
    "ROLE_PERMISSIONS",
    "ReleaseIn",
    "Role",
    "ServedIn",
    "Services",
    "Settings",
    "SmtpNotifier",
    "SubjectIn",
    "TokenStore",
    "TransferIn",
    "UNLINKED",
    "WebhookNotifier",
    "Worker",
    "WorkerReport",
    "allowed",
    "app_from_env",
    "build_services",
    "check_key",
    "configure_logging",
    "create_app",
    "default_decider",
    "effective_decision",
    "fingerprint",
    "load_demo",
    "need_to_know",
    "notify_breach",
    "public_counts",
    "release_breach",
    "run_once",
    "simulate_arrivals",
    "to_immigration",
    "transfer_breach",
]
