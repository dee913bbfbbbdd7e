"""The detainer desk as a service: REST API, roles, deadline worker, outbox and notifiers."""

from detainers.desk import (
    Actor,
    Decider,
    Desk,
    DeskError,
    Forbidden,
    InvalidCommand,
    NotFound,
    Office,
    PolicyUnavailable,
    default_decider,
    effective_decision,
    public_counts,
)
from detainers.service import _need_to_know as need_to_know
from detainers.service import _person_notices as person_notices
from detainers.service._app import Services, Settings, build_services, create_app
from detainers.service._asgi import app_from_env
from detainers.service._auth import Principal, TokenStore
from detainers.service._demo import load_demo, simulate_arrivals
from detainers.service._logging import JsonFormatter, configure_logging
from detainers.service._notifiers import DeliveryError, Notice, Notifier, SmtpNotifier, WebhookNotifier
from detainers.service._outbox import Outbox, OutboxItem
from detainers.service._roles import ROLE_PERMISSIONS, Permission, Role, allowed
from detainers.service._sessions import SESSION_LIFETIME, SessionStore
from detainers.service._worker import Worker, WorkerReport

__all__ = [
    "SESSION_LIFETIME",
    "SessionStore",
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
    "ROLE_PERMISSIONS",
    "Role",
    "Services",
    "Settings",
    "SmtpNotifier",
    "TokenStore",
    "WebhookNotifier",
    "Worker",
    "WorkerReport",
    "allowed",
    "app_from_env",
    "build_services",
    "configure_logging",
    "create_app",
    "default_decider",
    "effective_decision",
    "load_demo",
    "need_to_know",
    "person_notices",
    "public_counts",
    "simulate_arrivals",
]
