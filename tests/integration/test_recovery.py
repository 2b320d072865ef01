"""忘记密码 over HTTP: the same answer for everyone, steps in order, single use, sessions ended, audited."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient

from idp.accounts.codes import OneTimeCodes
from idp.accounts.recovery import RecoveryService, ResetOutOfOrder
from idp.accounts.services import Client
from idp.audit.services import details_of, events
from idp.notify.outbox import OutboxSender, read_outbox
from idp.notify.smtp import SmtpOptions, SmtpSender
from idp.notify.wiring import ChannelRouter
from tests.integration.oidc.conftest import csrf_of, idp_app  # noqa: F401 - idp_app is a fixture
from tests.integration.test_registration import (
    PASSWORD,
    accounts_of,
    app,  # noqa: F401 - a fixture
    code_sent_to,
    messages_to,
    outbox_of,
    services_of,
    submit,
    text_of,
)
from tests.support.live import free_port

NEW_PASSWORD = "Chibi-Fu-Night-1082"
MOBILE = "13800138000"


@pytest.fixture()
def person(app: Flask) -> str:  # noqa: F811 - app is the imported fixture
    user = accounts_of(app).create_user(
        "su_dongpo",
        PASSWORD,
        email="dongpo@example.cn",
        email_verified=True,
        phone_number=MOBILE,
        phone_number_verified=True,
    )
    return user.id


def sign_in(app: Flask, password: str = PASSWORD) -> FlaskClient:  # noqa: F811
    client = app.test_client()
    answer = submit(client, "/login", username="su_dongpo", password=password, account_type="natural")
    assert answer.status_code == 303, text_of(answer)[:500]
    return client


def signed_in(client: FlaskClient) -> bool:
    return client.get("/me/password").status_code == 200


def reset(client: FlaskClient, app: Flask, contact: str = MOBILE, new: str = NEW_PASSWORD) -> None:  # noqa: F811
    assert submit(client, "/forgot-password", username="su_dongpo", contact=contact).status_code == 303
    code = code_sent_to(app, contact)
    step_two = submit(client, "/forgot-password/code", code=code)
    assert step_two.status_code == 303 and step_two.headers["Location"] == "/forgot-password/new"
    step_three = submit(client, "/forgot-password/new", password=new, password_again=new)
    assert step_three.status_code == 303, text_of(step_three)[:1000]


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


# --- the happy path -------------------------------------------------------------------------------------


def test_reset_sets_the_new_password_ends_every_session_and_is_audited(app: Flask, person: str) -> None:  # noqa: F811
    elsewhere = sign_in(app)
    assert signed_in(elsewhere)
    client = app.test_client()
    assert "忘记密码" in text_of(client.get("/forgot-password"))
    reset(client, app)
    done = client.get("/account/done")
    assert "密码已重置" in text_of(done) and "login_hint=su_dongpo" in text_of(done)

    assert not signed_in(elsewhere), "the other browser's session ended"
    refused = submit(
        app.test_client(), "/login", username="su_dongpo", password=PASSWORD, account_type="natural"
    )
    assert refused.status_code == 400 and "登录名或密码错误" in text_of(refused)
    assert signed_in(sign_in(app, NEW_PASSWORD))

    with services_of(app).db.transaction() as session:
        (requested,) = events(session, event="password.reset.requested")
        assert requested.target == person and details_of(requested)["matched"] is True
        (changed,) = events(session, event="password.reset", target=person)
        assert changed.actor == person and changed.ip


def test_a_reset_lifts_a_lock_from_guessing(app: Flask, person: str) -> None:  # noqa: F811
    guesser = app.test_client()
    for _ in range(services_of(app).settings.lock_after + 1):
        submit(guesser, "/login", username="su_dongpo", password="wrong-guess-1", account_type="natural")
    assert accounts_of(app).throttle.locked("su_dongpo")
    reset(app.test_client(), app, "dongpo@example.cn")
    assert signed_in(sign_in(app, NEW_PASSWORD))


# --- the same answer for everyone -----------------------------------------------------------------------


def test_the_same_answer_whether_or_not_the_account_and_contact_match(app: Flask, person: str) -> None:  # noqa: F811
    accounts_of(app).create_user(
        "huang_tingjian", PASSWORD, phone_number="13833138000", phone_number_verified=False
    )
    # Four mobiles that all read 13******000 when masked, so the pages may be compared whole.
    cases = {
        "owner": ("su_dongpo", MOBILE),
        "unknown login name": ("nobody_here", "13811138000"),
        "someone else's contact": ("su_dongpo", "13822138000"),
        "contact never confirmed": ("huang_tingjian", "13833138000"),
    }
    answers = {}
    for label, (username, contact) in cases.items():
        client = app.test_client()
        first = submit(client, "/forgot-password", username=username, contact=contact)
        page = client.get(first.headers.get("Location", "/nowhere"))
        answers[label] = (
            first.status_code,
            first.headers.get("Location"),
            page.status_code,
            without_tokens(text_of(page)),
        )
    assert len(set(answers.values())) == 1, "every case answers alike"
    assert answers["owner"][:3] == (303, "/forgot-password/code", 200)
    assert "13******000" in answers["owner"][3]

    code_sent_to(app, MOBILE)  # the owner's code arrives ...
    assert [m["to"] for m in read_outbox(outbox_of(app))] == [MOBILE]  # ... and nobody else gets one

    # Throttling treats every contact alike too: a second request right away is refused in every case.
    for label, (username, contact) in cases.items():
        again = submit(app.test_client(), "/forgot-password", username=username, contact=contact)
        assert again.status_code == 429 and "过于频繁" in text_of(again), label

    with services_of(app).db.transaction() as session:
        matched = sorted(
            details_of(row)["matched"] for row in events(session, event="password.reset.requested")
        )
        assert matched == [False, False, False, True]


def test_wrong_codes_read_the_same_for_a_real_and_a_made_up_account(app: Flask, person: str) -> None:  # noqa: F811
    real, made_up = app.test_client(), app.test_client()
    submit(real, "/forgot-password", username="su_dongpo", contact=MOBILE)
    submit(made_up, "/forgot-password", username="nobody_here", contact="13811138000")
    code = code_sent_to(app, MOBILE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, 6):
        pages = [submit(browser, "/forgot-password/code", code=wrong) for browser in (real, made_up)]
        assert {p.status_code for p in pages} == {400}
        bodies = {without_tokens(text_of(p)) for p in pages}
        assert len(bodies) == 1, attempt
        assert ("验证码已失效" if attempt == 5 else "验证码错误") in bodies.pop()
    late = submit(real, "/forgot-password/code", code=code)
    assert late.status_code == 400 and "验证码已失效" in text_of(late)


def test_sending_does_not_hold_up_the_answer(app: Flask, person: str, blocked_relay: Any) -> None:  # noqa: F811
    svc = services_of(app)
    smtp = SmtpSender(
        SmtpOptions(host="127.0.0.1", port=blocked_relay.port, sender="noreply@most.test", starttls=False)
    )
    svc.extras["sender"] = ChannelRouter(email=smtp, sms=OutboxSender(outbox_of(app)))
    client = app.test_client()
    answer = submit(client, "/forgot-password", username="su_dongpo", contact="dongpo@example.cn")
    # The relay holds the message until the test lets it go: the answer came first.
    assert answer.status_code == 303 and blocked_relay.received == []
    blocked_relay.release.set()
    assert blocked_relay.arrived.wait(10)
    (message,) = blocked_relay.received
    assert "dongpo@example.cn" in message and "重置密码" in message


class BlockedRelay:
    """A real SMTP server whose DATA step waits for ``release``."""

    def __init__(self) -> None:
        self.port = free_port()
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.received: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 20)
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body()
        assert body is not None
        self.received.append(f"{','.join(envelope.rcpt_tos)}\n{message['Subject']}\n{body.get_content()}")
        self.arrived.set()
        return "250 OK"


@pytest.fixture()
def blocked_relay() -> Iterator[BlockedRelay]:
    relay = BlockedRelay()
    controller = Controller(relay, hostname="127.0.0.1", port=relay.port)
    controller.start()
    try:
        yield relay
    finally:
        relay.release.set()
        controller.stop()


# --- steps in order, once, in one browser --------------------------------------------------------------


def test_steps_cannot_be_skipped_or_reordered(app: Flask, person: str) -> None:  # noqa: F811
    client = app.test_client()
    for path in ("/forgot-password/code", "/forgot-password/new"):
        skipped = client.get(path)
        assert skipped.status_code == 303 and skipped.headers["Location"] == "/forgot-password", path

    submit(client, "/forgot-password", username="su_dongpo", contact=MOBILE)
    code = code_sent_to(app, MOBILE)
    # At the code step, the password step is not open yet, neither by GET nor by POST.
    assert client.get("/forgot-password/new").headers["Location"] == "/forgot-password"
    token = csrf_of(text_of(client.get("/forgot-password/code")))
    early = client.post(
        "/forgot-password/new",
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert early.status_code == 303 and early.headers["Location"] == "/forgot-password"
    assert "步骤不正确" in text_of(client.get("/forgot-password"))
    # The early attempt did not end the flow: the code step still works.
    assert submit(client, "/forgot-password/code", code=code).status_code == 303

    # The code step is over: sending the code again is not possible.
    token = csrf_of(text_of(client.get("/forgot-password/new")))
    replay = client.post("/forgot-password/code", data={"csrf_token": token, "code": code})
    assert replay.status_code == 303 and replay.headers["Location"] == "/forgot-password"

    # Another browser without this ticket cannot take the last step.
    other = app.test_client()
    other_token = csrf_of(text_of(other.get("/forgot-password")))
    stolen = other.post(
        "/forgot-password/new",
        data={"csrf_token": other_token, "password": "Stolen-Pass-999", "password_again": "Stolen-Pass-999"},
    )
    assert stolen.status_code == 303 and stolen.headers["Location"] == "/forgot-password"

    finished = client.post(
        "/forgot-password/new",
        data={"csrf_token": token, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert finished.status_code == 303 and finished.headers["Location"] == "/account/done"
    again = client.post(
        "/forgot-password/new",
        data={"csrf_token": token, "password": "Another-Pass-777", "password_again": "Another-Pass-777"},
    )
    assert again.status_code == 303 and again.headers["Location"] == "/forgot-password"
    assert signed_in(sign_in(app, NEW_PASSWORD))


def test_a_refused_new_password_leaves_the_step_open(app: Flask, person: str) -> None:  # noqa: F811
    client = app.test_client()
    submit(client, "/forgot-password", username="su_dongpo", contact=MOBILE)
    submit(client, "/forgot-password/code", code=code_sent_to(app, MOBILE))
    weak = submit(client, "/forgot-password/new", password="su_dongpo1", password_again="su_dongpo1")
    assert weak.status_code == 400 and "登录名" in text_of(weak)
    mismatch = submit(client, "/forgot-password/new", password=NEW_PASSWORD, password_again="Other-Pass-123")
    assert mismatch.status_code == 400 and "不一致" in text_of(mismatch)
    done = submit(client, "/forgot-password/new", password=NEW_PASSWORD, password_again=NEW_PASSWORD)
    assert done.status_code == 303


def test_concurrent_last_steps_change_the_password_once(app: Flask, person: str) -> None:  # noqa: F811
    svc = services_of(app)
    ended: list[str] = []
    service = RecoveryService(
        accounts_of(app),
        OneTimeCodes(svc.store, svc.settings.secret_key),
        OutboxSender(outbox_of(app)),
        ended.append,
    )
    client = Client(ip="198.51.100.4", request_id="concurrency")
    ticket = service.start("su_dongpo", MOBILE, client)
    service.confirm_code(ticket, code_sent_to(app, MOBILE), client)
    outcomes: list[str] = []

    def finish(n: int) -> None:
        try:
            service.set_password(ticket, f"Parallel-Pass-{n:03d}x", client)
            outcomes.append("changed")
        except ResetOutOfOrder:
            outcomes.append("refused")

    threads = [threading.Thread(target=finish, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["changed"] + ["refused"] * 7
    assert ended == [person]
    with svc.db.transaction() as session:
        assert len(events(session, event="password.reset", target=person)) == 1


# --- hostile input --------------------------------------------------------------------------------------


def test_hostile_input_never_gives_a_5xx(app: Flask, person: str) -> None:  # noqa: F811
    client = app.test_client()
    token = csrf_of(text_of(client.get("/forgot-password")))
    cases: list[dict[str, Any]] = [
        {"data": {"csrf_token": token, "username": "u" * 100_000, "contact": MOBILE}},
        {"data": {"csrf_token": token, "username": "su_dongpo", "contact": "1" * 100_000}},
        {"data": {"csrf_token": token, "username": "su\r\ndongpo", "contact": "138\x000138000"}},
        {"data": {"csrf_token": token, "username": "<b>x</b>", "contact": "<script>alert(1)</script>"}},
        {
            "data": f"csrf_token={token}&username=%FF%FE&contact=%C3%28".encode(),
            "content_type": "application/x-www-form-urlencoded",
        },
        {"data": {"username": "su_dongpo", "contact": MOBILE}},
    ]
    for case in cases:
        response = client.post("/forgot-password", **case)
        assert 400 <= response.status_code < 500, case
        html = text_of(response)
        assert "<script>alert(1)</script>" not in html and "<b>x</b>" not in html and "Traceback" not in html
    assert messages_to(app, MOBILE) == []
