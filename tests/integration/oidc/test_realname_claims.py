"""Real-name claims in the ID token and at userinfo, for every real-name status, through the code flow.

Each status is reached the way people reach it: 修改个人信息 against the real verification simulator,
uploads and 提交 on the pages, and a reviewer's decision. Scope ``realname`` releases
``realname_status`` and, once proven, OpenID Connect for Identity Assurance ``verified_claims``;
scope ``idcard`` releases the full ID number only to a client registered with ``allow_idcard``.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.accounts.services import AccountService
from idp.context import Services
from idp.oidc.clients import ClientService, ClientSpec
from idp.realname.services import Actor
from idp.realname.wiring import review_service
from tests.integration.oidc.conftest import PASSWORD, RP_REDIRECT, RP_SECRET, Person, authorize, exchange
from tests.integration.realname.conftest import photo, source_url  # noqa: F401 - fixture
from tests.integration.test_me_pages import ZHANG, save_profile, submit, upload, use_source

ID_CLIENT = "rp-idcard"
ID_REDIRECT = "https://idcard-rp.example/callback"
#: The name typed for the paths where the national source does not recognise the person.
TYPED_NAME = "张伟伟"
STATUSES = ("unverified", "verified", "failed", "pending_review", "reviewed")


@pytest.fixture()
def id_client(services: Services) -> str:
    ClientService(services.db, services.settings).add(
        ClientSpec(
            client_id=ID_CLIENT,
            secret=RP_SECRET,
            redirect_uris=[ID_REDIRECT],
            first_party=True,
            allow_idcard=True,
        )
    )
    return ID_CLIENT


def bring_to(status: str, browser: FlaskClient, services: Services) -> None:
    """Walk the signed-in person to ``status`` through the pages (and a reviewer's decision)."""
    if status == "unverified":
        return
    if status == "verified":
        assert save_profile(browser, ZHANG).status_code == 303
        return
    assert save_profile(browser, ZHANG, name=TYPED_NAME).status_code == 303
    if status == "failed":
        return
    assert upload(browser, "front", photo()).status_code == 303
    assert upload(browser, "back", photo()).status_code == 303
    assert submit(browser).status_code == 303
    if status == "pending_review":
        return
    reviewer = AccountService(services.db, services.store, services.settings).create_user(
        "checker", PASSWORD, roles=("reviewer",)
    )
    reviews = review_service(services)
    request_id = reviews.queue(Actor(reviewer.id))[0].verification_id
    reviews.decide(Actor(reviewer.id), request_id, approve=True)


def tokens_and_userinfo(
    browser: FlaskClient, scope: str, client_id: str, redirect: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    result = authorize(browser, client_id=client_id, redirect_uri=redirect, scope=scope)
    response = exchange(browser, result, client_id=client_id, redirect_uri=redirect)
    assert response.status_code == 200, response.get_data(as_text=True)
    token = response.get_json()
    keys = KeySet.import_key_set(browser.get("/jwks").get_json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    info = browser.get("/userinfo", headers={"Authorization": "Bearer " + token["access_token"]})
    assert info.status_code == 200
    return id_token, info.get_json()


@pytest.mark.parametrize("status", STATUSES)
def test_scope_realname_tells_each_status(
    status: str,
    signed_in: FlaskClient,
    services: Services,
    person: Person,
    rp: str,
    source_url: str,  # noqa: F811
) -> None:
    use_source(services, source_url)
    bring_to(status, signed_in, services)
    for claims in tokens_and_userinfo(signed_in, "openid realname", rp, RP_REDIRECT):
        assert claims["sub"] == person.id
        assert claims["realname_status"] == status
        assert "id_number" not in claims and "id_document_type" not in claims
        if status == "verified":
            verified = claims["verified_claims"]
            assert verified["verification"]["trust_framework"] == "cn_national_id_register"
            assert verified["verification"]["evidence"] == [{"type": "electronic_record"}]
            assert verified["verification"]["time"].endswith("Z")
            assert verified["claims"] == {"name": ZHANG.name, "birthdate": ZHANG.birth_date}
        elif status == "reviewed":
            verified = claims["verified_claims"]
            assert verified["verification"]["trust_framework"] == "cn_manual_review"
            assert verified["verification"]["evidence"] == [{"type": "document"}]
            assert verified["claims"] == {"name": TYPED_NAME, "birthdate": ZHANG.birth_date}
        else:
            assert "verified_claims" not in claims, "nothing is claimed as verified before it is"


def test_without_scope_realname_no_real_name_claims(
    signed_in: FlaskClient,
    services: Services,
    rp: str,
    source_url: str,  # noqa: F811
) -> None:
    use_source(services, source_url)
    bring_to("verified", signed_in, services)
    for claims in tokens_and_userinfo(signed_in, "openid profile", rp, RP_REDIRECT):
        assert (
            "realname_status" not in claims and "verified_claims" not in claims and "id_number" not in claims
        )


@pytest.mark.parametrize("status", ["verified", "reviewed", "failed"])
def test_scope_idcard_only_for_a_client_allowed_it(
    status: str,
    signed_in: FlaskClient,
    services: Services,
    rp: str,
    id_client: str,
    source_url: str,  # noqa: F811
) -> None:
    use_source(services, source_url)
    bring_to(status, signed_in, services)
    # A client without allow_idcard asking for it: the scope is dropped, nothing leaks.
    for claims in tokens_and_userinfo(signed_in, "openid realname idcard", rp, RP_REDIRECT):
        assert "id_number" not in claims and "id_document_type" not in claims
    allowed = tokens_and_userinfo(signed_in, "openid realname idcard", id_client, ID_REDIRECT)
    for claims in allowed:
        if status == "failed":
            # An unproven number is never handed out as an identity, even to an allowed client.
            assert "id_number" not in claims
        else:
            assert claims["id_number"] == ZHANG.id_number
            assert claims["id_document_type"] == "resident_id"
    # Without asking for idcard, the allowed client gets no number either.
    for claims in tokens_and_userinfo(signed_in, "openid realname", id_client, ID_REDIRECT):
        assert "id_number" not in claims
