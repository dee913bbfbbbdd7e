"""The detainer desk as a service: REST API, roles, deadline worker, outbox and notifiers."""

from detainers.service._app import Services, Settings, build_services, create_app
from detainers.service._auth import Principal, TokenStore
from detainers.service._desk import Actor, Decider, Desk, Office, default_decider, effective_decision
from detainers.service._errors import DeskError, Forbidden, InvalidCommand, NotFound, PolicyUnavailable
from detainers.service._logging import JsonFormatter, configure_logging
from detainers.service._notifiers import DeliveryError, Notice, Notifier, SmtpNotifier, WebhookNotifier
from detainers.service._outbox import Outbox, OutboxItem
from detainers.service._public import public_counts
from detainers.service._roles import ROLE_PERMISSIONS, Permission, Role, allowed
from detainers.service._worker import Worker, WorkerReport

__all__ = [
    "ROLE_PERMISSIONS",
    "Actor",
    "Decider",
    "DeliveryError",
    "Desk",
    "DeskError",
    "Forbidden",
    "InvalidCommand",
    "JsonFormatter",
    "NotFound",
    "Notice",
    "Notifier",
    "Office",
    "Outbox",
    "OutboxItem",
    "Permission",
    "PolicyUnavailable",
    "Principal",
    "Role",
    "Services",
    "Settings",
    "SmtpNotifier",
    "TokenStore",
    "WebhookNotifier",
    "Worker",
    "WorkerReport",
    "allowed",
    "build_services",
    "configure_logging",
    "create_app",
    "default_decider",
    "effective_decision",
    "public_counts",
]
