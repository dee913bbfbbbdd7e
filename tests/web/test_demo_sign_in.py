"""The demo's one-click sign-in works only with the demo's key, and only when a demo set it."""

from __future__ import annotations

import pytest
from tests.web.conftest import WebEnv


def test_demo_link_signs_in_as_the_demo_clerk(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DETAINERS_DEMO_SIGNIN", f"k3y:{web.tokens['clerk']}")
    client = web.client()
    assert client.get("/demo/sign-in/wrong", follow_redirects=False).status_code == 404
    response = client.get("/demo/sign-in/k3y", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/desk"
    assert web.tokens["clerk"] not in response.headers["location"]
    assert client.get("/desk").status_code == 200


def test_demo_link_is_absent_outside_a_demo(web: WebEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DETAINERS_DEMO_SIGNIN", raising=False)
    assert web.client().get("/demo/sign-in/anything", follow_redirects=False).status_code == 404
