"""The web desk's sessions: a server-side id in the cookie (never the token), revoked by sign-out; login CSRF."""

from __future__ import annotations

import re

from detainers.web._session import COOKIE, PRE_COOKIE

from .conftest import WebEnv


def test_the_cookie_holds_a_session_id_not_the_token(web: WebEnv) -> None:
    client = web.client()
    token = web.tokens["clerk"]
    assert web.sign_in(client, token).status_code == 303
    session_id = client.cookies[COOKIE]
    assert session_id != token and token.split("_", 2)[2] not in session_id
    assert client.get("/desk").status_code == 200


def test_sign_out_revokes_the_session_on_the_server(web: WebEnv) -> None:
    client = web.client("clerk")
    stolen = client.cookies[COOKIE]
    page = client.get("/desk").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert csrf
    assert client.post("/sign-out", data={"csrf": csrf.group(1)}, follow_redirects=False).status_code == 303
    replay = web.client()
    replay.cookies.set(COOKIE, stolen)
    answer = replay.get("/desk", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


def test_revoking_the_token_ends_its_sessions(web: WebEnv) -> None:
    client = web.client("supervisor")
    assert client.get("/desk").status_code == 200
    web.services.tokens.revoke(web.tokens["supervisor"].split("_")[1], now=web.clock.now())
    assert client.get("/desk", follow_redirects=False).status_code == 303


def test_sign_in_without_the_forms_pre_session_value_is_refused(web: WebEnv) -> None:
    client = web.client()
    bare = client.post("/sign-in", data={"token": web.tokens["clerk"]}, follow_redirects=False)
    assert bare.status_code == 403 and COOKIE not in client.cookies
    forged = client.post("/sign-in", data={"token": web.tokens["clerk"], "csrf": "0" * 40}, follow_redirects=False)
    assert forged.status_code == 403 and COOKIE not in client.cookies


def test_sign_in_from_another_origin_is_refused_even_with_the_field(web: WebEnv) -> None:
    client = web.client()
    form = client.get("/sign-in")
    assert PRE_COOKIE in client.cookies
    field = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert field
    data = {"token": web.tokens["clerk"], "csrf": field.group(1)}
    for headers in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Referer": "https://evil.example/x"}):
        answer = client.post("/sign-in", data=data, headers=headers, follow_redirects=False)
        assert answer.status_code == 403, headers
        assert "another site" in answer.text and COOKIE not in client.cookies
    same = client.post("/sign-in", data=data, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert same.status_code == 303 and COOKIE in client.cookies
