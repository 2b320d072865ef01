"""The append-only audit log: what a row holds, what it never holds, and that rows cannot change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from idp.audit.models import AuditEvent
from idp.audit.services import details_of, events, record, record_event
from idp.db import Database, utcnow
from idp.migrations.runner import downgrade, upgrade
from tests.support.services import scratch_postgres_database


def test_a_recorded_event_holds_who_what_when_and_where(database: Database) -> None:
    before = utcnow()
    with database.transaction() as session:
        record(
            session,
            event="login.success",
            actor="0f" * 16,
            ip="198.51.100.4",
            request_id="req-42",
            target="0f" * 16,
            account_type="natural",
            rehashed=False,
            note="名字\r\nforged line",
        )
    with database.transaction() as session:
        (row,) = events(session)
    assert (row.event, row.actor, row.ip, row.request_id, row.target) == (
        "login.success",
        "0f" * 16,
        "198.51.100.4",
        "req-42",
        "0f" * 16,
    )
    assert row.at.tzinfo is not None and before - timedelta(seconds=1) <= row.at <= utcnow() + timedelta(
        seconds=1
    )
    assert details_of(row) == {"account_type": "natural", "note": "名字\r\nforged line", "rehashed": False}


def test_missing_actor_is_anonymous_and_long_values_are_clipped(database: Database) -> None:
    record_event(
        database, event="login.failure", actor=None, ip="x" * 500, request_id="r" * 500, reason="y" * 5000
    )
    with database.transaction() as session:
        (row,) = events(session)
    assert row.actor == "anonymous" and len(row.ip or "") == 64 and len(row.request_id or "") == 64
    assert len(details_of(row)["reason"]) == 200


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "captcha_answer",
        "captcha",
        "code",
        "auth_code",
        "access_token",
        "id_number",
        "client_secret",
        "otp",
    ],
)
def test_details_that_could_hold_a_secret_are_refused(database: Database, key: str) -> None:
    with pytest.raises(ValueError):
        record_event(
            database, event="test.secret", actor="system", ip=None, request_id=None, **{key: "s3cr3t"}
        )
    with database.transaction() as session:
        assert not events(session), "the refused event left nothing behind"


def test_harmless_keys_that_resemble_secret_ones_are_kept(database: Database) -> None:
    record_event(
        database, event="matter.granted", actor="admin", ip=None, request_id=None, matter_code="TRAIN-01"
    )
    with database.transaction() as session:
        assert details_of(events(session)[0]) == {"matter_code": "TRAIN-01"}


def test_rows_cannot_be_changed_or_deleted_through_the_orm(database: Database) -> None:
    record_event(database, event="login.success", actor="someone", ip=None, request_id=None)
    with pytest.raises(PermissionError), database.transaction() as session:
        row = events(session)[0]
        row.actor = "someone else"
    with pytest.raises(PermissionError), database.transaction() as session:
        session.delete(events(session)[0])
    with database.transaction() as session:
        (row,) = events(session)
    assert row.actor == "someone"


def test_events_filter_and_order(database: Database) -> None:
    for index in range(3):
        record_event(database, event="login.failure", actor="a", ip=None, request_id=None, target=f"t{index}")
    record_event(database, event="logout", actor="b", ip=None, request_id=None, target="t9")
    with database.transaction() as session:
        assert [e.target for e in events(session, event="login.failure")] == ["t2", "t1", "t0"]
        assert [e.event for e in events(session, actor="b")] == ["logout"]
        assert [e.target for e in events(session, target="t1")] == ["t1"]
        assert len(events(session, limit=2)) == 2


# --- the migrations of the audit and accounts branches ---------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    else:
        with scratch_postgres_database() as url:
            yield url


def test_audit_and_accounts_revisions_go_down_and_up_with_data(scratch_url: str) -> None:
    upgrade(scratch_url)
    database = Database(scratch_url)
    try:
        record_event(database, event="login.success", actor="someone", ip="198.51.100.1", request_id="r1")
        with database.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, username_key, account_type, created_at, updated_at)"
                    " VALUES ('ab' || '0123456789abcdef0123456789ab', 'Mig_User', 'mig_user', 'natural',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            row = conn.execute(
                text("SELECT realname_status, roles, disabled, email_verified FROM users")
            ).one()
        assert (row[0], row[1], bool(row[2]), bool(row[3])) == ("unverified", "", False, False)

        downgrade(scratch_url, "audit@base")
        tables = set(inspect(database.engine).get_table_names())
        assert "audit_events" not in tables and "users" in tables
        upgrade(scratch_url)
        with database.transaction() as session:
            assert not session.query(AuditEvent).count()
            record(session, event="login.success", actor="again", ip=None, request_id=None)

        downgrade(scratch_url, "accounts@base")
        assert "users" not in set(inspect(database.engine).get_table_names())
        upgrade(scratch_url)
        assert {"users", "audit_events"} <= set(inspect(database.engine).get_table_names())
    finally:
        database.engine.dispose()


def test_an_id_number_typed_as_login_name_is_masked_in_the_audit_log(database: Database) -> None:
    from idp.audit.services import record

    number = "110108198506151358"
    with database.transaction() as session:
        row = record(
            session,
            event="login.failure",
            actor=None,
            ip="192.0.2.1",
            request_id="r1",
            target=number,
            note=f"typed {number}",
        )
    assert number not in (row.target or "") and number not in row.details
    assert (row.target or "").startswith("1101") and (row.target or "").endswith("1358")
