"""Erasing a person removes their data and photos, ends their tokens, and is audited."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.accounts.deletion import delete_person
from idp.audit.models import AuditEvent
from idp.errors import NotFound
from idp.oidc.models import Consent, TokenFamily
from idp.realname.demo_status import force_status
from idp.realname.models import PersonProfile, VerifiedIdentity
from idp.realname.status import RealnameStatus
from tests.integration.oidc.conftest import Person, authorize, basic, exchange

NUMBER = "110108198506151358"


def test_delete_person(signed_in: FlaskClient, rp: str, person: Person, services: Any) -> None:
    force_status(services.db, services.settings, person.username, RealnameStatus.VERIFIED, NUMBER, "张伟")
    tokens = exchange(signed_in, authorize(signed_in)).get_json()
    subject = delete_person(services.db, services.store, person.username, "operator-test")
    assert subject == person.id
    with services.db.transaction() as session:
        for model in (PersonProfile, VerifiedIdentity, TokenFamily, Consent):
            column = model.user_id  # type: ignore[attr-defined]
            assert session.scalar(select(func.count()).where(column == person.id)) == 0
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.event == "account.deleted")))
    assert [e.target for e in events] == [person.id]
    assert NUMBER not in events[0].details
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    assert signed_in.get("/userinfo", headers=bearer).status_code == 401
    refreshed = signed_in.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(),
    )
    assert refreshed.get_json()["error"] == "invalid_grant"
    with pytest.raises(NotFound):
        delete_person(services.db, services.store, person.username, "operator-test")
