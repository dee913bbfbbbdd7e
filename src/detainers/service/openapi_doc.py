"""Write or check ``docs/openapi.json`` (``python -m detainers.service.openapi_doc --write|--check``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["DOC_PATH", "main", "openapi_document", "render"]

DOC_PATH = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, built without touching a database."""
    from detainers.service._app import Settings, build_services, create_app

    services = build_services(Settings(database_url="sqlite://", migrate=False, worker=False), notifiers={})
    try:
        document: dict[str, Any] = create_app(services).openapi()
        return document
    finally:
        services.close()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--write" in args:
        DOC_PATH.write_text(text, encoding="utf-8")
        return 0
    current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
    if current != text:
        sys.stderr.write(f"{DOC_PATH} is stale: run python -m detainers.service.openapi_doc --write\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
