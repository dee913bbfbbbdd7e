"""API routes, one module per resource."""

from detainers.service.routes import audit, bookings, detainers, people, person_notices, public, reports

__all__ = ["audit", "bookings", "detainers", "people", "person_notices", "public", "reports"]
