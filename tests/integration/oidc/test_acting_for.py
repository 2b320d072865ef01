"""Acting for a unit: the choice at authorisation, the claim in every token, and revocation."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.accounts.services import AccountService
from idp.orgs.actors import CONSOLE_ACTOR, Actor
from idp.orgs.creditcode import generate_credit_code
from idp.orgs.delegation import DelegationService
from idp.orgs.permissions import PermissionService
from idp.orgs.services import UnitInput, UnitService
from tests.integration.oidc.conftest import (
    RP_REDIRECT,
    CodeResult,
    Person,
    basic,
    csrf_of,
    exchange,
    pkce_pair,
    query_of,
)

UNIT_NAME = "北京示例国际交流中心"


def _grant(services: Any, person: Person, role: str = "matter_handler") -> tuple[str, int, str]:
    """A unit holding the ``rp`` matter, whose admin grants ``person`` a role; (unit id, grant id, code)."""
    import random

    code = generate_credit_code(random.Random(7))
    unit = UnitService(services.db).add(
        UnitInput(credit_code=code, name=UNIT_NAME), "unitadmin1", "Unit-Admin-Seal-2026", CONSOLE_ACTOR
    )
    admin = AccountService(services.db, services.store, services.settings).find_by_username("unitadmin1")
    assert admin is not None
    actor = Actor(user_id=admin.id, ip="198.51.100.9", request_id="t")
    permission = PermissionService(services.db).apply(actor, "rp", "test")
    PermissionService(services.db).approve(CONSOLE_ACTOR, permission.id)
    grant = DelegationService(services.db).grant(actor, unit.id, "rp", person.id, role)
    return unit.id, grant.id, code


def _authorize_choosing(client: FlaskClient, choice: str | None) -> CodeResult:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "rp",
        "redirect_uri": RP_REDIRECT,
        "scope": "openid profile",
        "state": "st",
        "nonce": "nn",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = client.get("/authorize?" + urlencode(params))
    assert page.status_code == 200, page.headers.get("Location")
    html = page.get_data(as_text=True)
    assert UNIT_NAME in html and "以个人身份办理" in html
    tx = re.search(r'name="tx" value="([^"]+)"', html)
    assert tx
    values = re.findall(r'name="choice" value="([^"]+)"', html)
    picked = "self" if choice is None else next(v for v in values if v != "self")
    resp = client.post(
        "/authorize/act", data={"csrf_token": csrf_of(html), "tx": tx.group(1), "choice": picked}
    )
    assert resp.status_code == 302
    final = client.get(resp.headers["Location"])
    assert final.status_code == 302, final.get_data(as_text=True)[:300]
    q = query_of(final.headers["Location"])
    return CodeResult(q["code"], verifier, "nn", "st", final.headers["Location"])


def _keys(client: FlaskClient) -> KeySet:
    return KeySet.import_key_set(client.get("/jwks").get_json())


def test_acting_for_a_unit_reaches_every_token_until_revoked(
    idp_app: Flask, signed_in: FlaskClient, rp: str, person: Person, services: Any
) -> None:
    unit_id, grant_id, code = _grant(services, person)
    tokens = exchange(signed_in, _authorize_choosing(signed_in, "unit")).get_json()
    expected = {
        "type": "legal_person",
        "credit_code": code,
        "name": UNIT_NAME,
        "role": "matter_handler",
        "role_name": "事项办理员",
    }
    id_token = jwt.decode(tokens["id_token"], _keys(signed_in), algorithms=["RS256"]).claims
    assert id_token["acting_for"] == expected
    access = jwt.decode(tokens["access_token"], _keys(signed_in), algorithms=["RS256"]).claims
    assert access["acting_for"] == expected
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    assert signed_in.get("/userinfo", headers=bearer).get_json()["acting_for"] == expected
    introspected = signed_in.post(
        "/introspect", data={"token": tokens["access_token"]}, headers=basic()
    ).get_json()
    assert introspected["acting_for"] == expected
    refreshed = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    assert refreshed.status_code == 200
    tokens = refreshed.get_json()
    # The unit admin withdraws the grant while the session is open.
    admin = AccountService(services.db, services.store, services.settings).find_by_username("unitadmin1")
    assert admin is not None
    DelegationService(services.db).revoke(Actor(user_id=admin.id, ip=None, request_id=None), grant_id)
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    info = signed_in.get("/userinfo", headers=bearer)
    assert info.status_code == 200 and "acting_for" not in info.get_json()
    introspected = signed_in.post(
        "/introspect", data={"token": tokens["access_token"]}, headers=basic()
    ).get_json()
    assert introspected["active"] is True and "acting_for" not in introspected
    refused = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"


def test_choosing_oneself_gives_no_unit_claim(
    signed_in: FlaskClient, rp: str, person: Person, services: Any
) -> None:
    _grant(services, person)
    tokens = exchange(signed_in, _authorize_choosing(signed_in, None)).get_json()
    id_token = jwt.decode(tokens["id_token"], _keys(signed_in), algorithms=["RS256"]).claims
    assert "acting_for" not in id_token


def test_people_without_grants_see_no_choice(signed_in: FlaskClient, rp: str) -> None:
    from tests.integration.oidc.conftest import authorize

    result = authorize(signed_in)
    assert "code" in query_of(result.location)


def test_a_forged_choice_is_refused(signed_in: FlaskClient, rp: str, person: Person, services: Any) -> None:
    _grant(services, person)
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "rp",
        "redirect_uri": RP_REDIRECT,
        "scope": "openid",
        "state": "st",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    html = signed_in.get("/authorize?" + urlencode(params)).get_data(as_text=True)
    tx = re.search(r'name="tx" value="([^"]+)"', html)
    assert tx
    forged = signed_in.post(
        "/authorize/act",
        data={"csrf_token": csrf_of(html), "tx": tx.group(1), "choice": "someone-elses-unit:unit_admin"},
    )
    assert forged.status_code == 400
    # The transaction was consumed by the forged attempt: it cannot be replayed with a valid choice.
    replay = signed_in.post(
        "/authorize/act", data={"csrf_token": csrf_of(html), "tx": tx.group(1), "choice": "self"}
    )
    assert replay.status_code == 400


def test_prompt_none_acts_as_oneself(signed_in: FlaskClient, rp: str, person: Person, services: Any) -> None:
    _grant(services, person)
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "rp",
        "redirect_uri": RP_REDIRECT,
        "scope": "openid",
        "state": "st",
        "prompt": "none",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    resp = signed_in.get("/authorize?" + urlencode(params))
    assert resp.status_code == 302 and "code" in query_of(resp.headers["Location"])
