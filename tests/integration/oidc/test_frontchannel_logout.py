"""Front-channel logout: the logged-out page loads each participating client's logout URI."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask.testing import FlaskClient

from idp.oidc.clients import ClientService, ClientSpec
from tests.integration.oidc.conftest import ISSUER, authorize, exchange

FRONT = "https://front.example/logout"


def test_logged_out_page_frames_front_channel_clients(signed_in: FlaskClient, rp: str, services: Any) -> None:
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id="front",
            secret="front-secret-0123456789",
            redirect_uris=["https://front.example/cb"],
            post_logout_redirect_uris=["https://front.example/bye"],
            frontchannel_logout_uri=FRONT,
            first_party=True,
        )
    )
    authorize(signed_in, client_id="front", redirect_uri="https://front.example/cb")
    tokens = exchange(signed_in, authorize(signed_in))
    id_token = tokens.get_json()["id_token"]
    resp = signed_in.get(
        "/end-session?"
        + urlencode(
            {"id_token_hint": id_token, "post_logout_redirect_uri": "https://rp.example/bye", "state": "z"}
        )
    )
    # With a front-channel client in the session the page is shown first, then it moves on.
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    frames = re.findall(r'<iframe class="frontchannel-logout" src="([^"]+)"', html)
    assert len(frames) == 1
    src = frames[0].replace("&amp;", "&")
    assert src.startswith(FRONT + "?")
    query = parse_qs(urlsplit(src).query)
    assert query["iss"] == [ISSUER] and len(query["sid"][0]) == 64
    assert 'http-equiv="refresh"' in html and "https://rp.example/bye?state=z" in html
    assert "frame-src https://front.example" in resp.headers["Content-Security-Policy"]


def test_no_front_channel_clients_means_a_plain_redirect(signed_in: FlaskClient, rp: str) -> None:
    id_token = exchange(signed_in, authorize(signed_in)).get_json()["id_token"]
    resp = signed_in.get(
        "/end-session?"
        + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": "https://rp.example/bye"})
    )
    assert resp.status_code == 302 and resp.headers["Location"] == "https://rp.example/bye"
