"""/docs and /redoc are served from assets shipped with the package: no CDN, no third-party script, offline."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "detainers"


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_only_local_assets(env: Any, page: str) -> None:
    html = env.client.get(page)
    assert html.status_code == 200
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
    urls += re.findall(r"""url:\s*["']([^"']+)["']""", html.text)
    assert urls, "no asset found in the page"
    for url in urls:
        assert url.startswith("/"), f"{page} refers to {url}"
        assert env.client.get(url).status_code == 200, url
    assert not re.search(r"https?://", html.text), "an absolute URL in the docs page"
    assert "validatorUrl" in html.text or page == "/redoc"


def test_swagger_assets_are_the_real_bundle(env: Any) -> None:
    script = env.client.get("/api-docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 500_000 and b"SwaggerUIBundle" in script.content
    assert script.headers["x-content-type-options"] == "nosniff"


def test_no_cdn_url_anywhere_in_the_package() -> None:
    offenders = [
        str(path)
        for path in SRC.rglob("*")
        if path.suffix in {".py", ".html", ".js", ".css"}
        and re.search(r"cdn\.jsdelivr|unpkg\.com|cdnjs|fonts\.googleapis", path.read_text(errors="replace"))
    ]
    assert not offenders, offenders
