"""An app factory that reads its settings from the environment, for ``uvicorn --factory`` with several workers."""

from __future__ import annotations

import os
import sys

from fastapi import FastAPI

from detainers.service._app import Settings, build_services, create_app
from detainers.service._logging import configure_logging
from detainers.service._ratelimit import FailureLimiter

__all__ = ["app_from_env", "settings_from_env"]


def settings_from_env() -> Settings:
    return Settings(
        database_url=os.environ.get("DETAINERS_DATABASE_URL"),
        migrate=os.environ.get("DETAINERS_MIGRATE", "1") == "1",
        worker=os.environ.get("DETAINERS_WORKER", "1") == "1",
        smtp_host=os.environ.get("DETAINERS_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("DETAINERS_SMTP_PORT", "25")),
    )


def app_from_env() -> FastAPI:
    # Shorter GIL hand-over: request threads wait on the database far more than they compute.
    sys.setswitchinterval(0.0005)
    if os.environ.get("DETAINERS_LOG", "1") == "1":
        configure_logging()
    services = build_services(settings_from_env())
    services.tune_gc = True
    if os.environ.get("DETAINERS_THREADS"):
        services.threads = max(1, int(os.environ["DETAINERS_THREADS"]))
    # Failed sign-ins allowed per minute, per client address and per token id, and how late a failure is
    # answered (docs/security.md).
    services.limiter = FailureLimiter(
        per_client=int(os.environ.get("DETAINERS_AUTH_FAILURES_PER_CLIENT", "20")),
        per_token=int(os.environ.get("DETAINERS_AUTH_FAILURES_PER_TOKEN", "10")),
        failure_delay=float(os.environ.get("DETAINERS_AUTH_FAILURE_DELAY", "1.0")),
    )
    return create_app(services)
