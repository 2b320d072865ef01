"""Back-channel logout (OIDC Back-Channel Logout 1.0): tell every client of an ended session.

Sending happens on a background thread with retries, so a slow or dead client never holds up the
person's logout page. Each logout token is single-purpose: it has ``events`` and no ``nonce``
(§2.4), and a short lifetime.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable

import requests

from idp.errors import InvalidInput
from idp.net import check_egress_url
from idp.oidc.models import OAuthClient
from idp.oidc.tokens import TokenIssuer

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
ATTEMPTS = 3
TIMEOUT = (2.0, 3.0)


def logout_token(issuer: TokenIssuer, client: OAuthClient, user_id: str, sid: str | None) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer.settings.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": secrets.token_urlsafe(16),
        "sub": user_id,
        "events": {EVENT: {}},
    }
    if sid:
        claims["sid"] = sid
    return issuer.sign(claims, client.id_token_signed_response_alg, typ="logout+jwt")


def deliver(issuer: TokenIssuer, client: OAuthClient, user_id: str, sid: str | None) -> bool:
    uri = client.backchannel_logout_uri
    if not uri:
        return True
    try:
        check_egress_url(uri, allow_private=issuer.settings.allow_private_egress)
    except InvalidInput as exc:
        log.warning("back-channel logout to %s refused: %s", client.client_id, exc.public)
        return False
    token = logout_token(issuer, client, user_id, sid)
    for attempt in range(ATTEMPTS):
        try:
            resp = requests.post(
                uri,
                data={"logout_token": token},
                timeout=TIMEOUT,
                allow_redirects=False,
                headers={"Cache-Control": "no-store"},
            )
            if resp.status_code in (200, 204):
                return True
            log.warning("back-channel logout to %s answered %s", client.client_id, resp.status_code)
        except requests.RequestException as exc:
            log.warning("back-channel logout to %s failed: %s", client.client_id, exc.__class__.__name__)
        time.sleep(0.5 * (2**attempt))
    return False


def notify_async(
    issuer: TokenIssuer, clients: Iterable[OAuthClient], user_id: str, sids: list[str]
) -> threading.Thread:
    """Deliver one logout token per client and session id in the background.

    A browser session that re-authenticated carries its earlier ids: a relying party that signed
    in under one of them only knows that one, and one that does not know an id ends nothing.
    """
    targets = [c for c in clients if c.backchannel_logout_uri]

    def run() -> None:
        for client in targets:
            for sid in sids:
                deliver(issuer, client, user_id, sid)

    thread = threading.Thread(target=run, name="backchannel-logout", daemon=True)
    thread.start()
    return thread
