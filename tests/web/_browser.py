"""What the browser tests share: Debian's Chromium (the module is skipped, with the reason, where it is missing),
a real uvicorn server on a free loopback port, and the screenshot folder (`make screenshots` sets
DETAINERS_SCREENSHOTS=1 to refresh the committed images in docs/screenshots)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
# no network of its own: the tests must pass on an offline machine and never reach a third party
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("DETAINERS_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "detainers-screenshots"
)


def skip_without_chromium() -> None:
    """Call at module level, before importing playwright."""
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium); .ci/run installs it",
            allow_module_level=True,
        )


@contextmanager
def serving(app: Any, name: str) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yields its base URL, stops it on exit."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(args: list[str] | None = None) -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser of its own here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args or CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
