"""The senders against real servers: a local SMTP server (aiosmtpd) in plain, STARTTLS and TLS modes,
a listener that never answers, a closed port, and the outbox directory."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idp.config import load_settings
from idp.errors import ConfigError
from idp.notify import DeliveryFailed, build_sender
from idp.notify.outbox import OutboxSender, read_outbox
from idp.notify.smtp import SmtpOptions, SmtpSender
from idp.notify.texts import code_message
from idp.notify.wiring import send_in_background
from tests.support.live import free_port

FROM = "noreply@fuwu.most.test"
RELAY_USER = "relay-user"
RELAY_PASSWORD = "relay-password-42"  # noqa: S105 - the test relay's own credential


@dataclass
class Inbox:
    """What the SMTP server received: parsed messages and the logins it accepted."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == RELAY_USER.encode()
            and data.password == RELAY_PASSWORD.encode()
        )
        if ok:
            self.logins.append(RELAY_USER)
        return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, which the tests' client contexts trust."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


@contextmanager
def relay(inbox: Inbox, **options: Any) -> Iterator[int]:
    """A real SMTP server on a free loopback port, delivering into ``inbox``."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture()
def plain_relay() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with relay(inbox) as port:
        yield inbox, port


@pytest.fixture()
def starttls_relay(certificate: Certificate) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    options = {
        "tls_context": certificate.server_context(),
        "require_starttls": True,
        "authenticator": inbox.authenticate,
        "auth_require_tls": True,
    }
    with relay(inbox, **options) as port:
        yield inbox, port


@pytest.fixture()
def tls_relay(certificate: Certificate) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with relay(inbox, ssl_context=certificate.server_context()) as port:
        yield inbox, port


def body_of(message: EmailMessage) -> str:
    part = message.get_body()
    assert part is not None
    content: str = part.get_content()
    return content


# --- delivery -------------------------------------------------------------------------------------------


def test_a_code_reaches_a_plain_relay(plain_relay: tuple[Inbox, int]) -> None:
    inbox, port = plain_relay
    sender = SmtpSender(SmtpOptions(host="127.0.0.1", port=port, sender=FROM, starttls=False, timeout=5))
    subject, body = code_message("register", "024681", 10, "email")
    sender.send("wang.wei@example.cn", "email", subject, body)

    (message,) = inbox.messages
    assert inbox.recipients == [["wang.wei@example.cn"]]
    assert message["From"] == FROM and message["To"] == "wang.wei@example.cn"
    assert message["Subject"] == "科学技术部政务服务平台验证码 / Verification code"
    assert message["Date"] and message["Message-ID"].endswith("@fuwu.most.test>")
    assert "验证码为 024681" in body_of(
        message
    ) and "Your code for registering an account is 024681" in body_of(message)


def test_starttls_with_login(starttls_relay: tuple[Inbox, int], certificate: Certificate) -> None:
    inbox, port = starttls_relay
    options = SmtpOptions(
        host="127.0.0.1", port=port, user=RELAY_USER, password=RELAY_PASSWORD, sender=FROM, timeout=5
    )
    SmtpSender(options, context=certificate.client_context()).send(
        "li.bai@example.cn", "email", "主题", "正文"
    )
    assert inbox.logins == [RELAY_USER]
    (message,) = inbox.messages
    assert body_of(message).strip() == "正文"


def test_a_wrong_relay_password_is_a_delivery_failure(
    starttls_relay: tuple[Inbox, int], certificate: Certificate
) -> None:
    inbox, port = starttls_relay
    options = SmtpOptions(
        host="127.0.0.1", port=port, user=RELAY_USER, password="wrong", sender=FROM, timeout=5
    )
    with pytest.raises(DeliveryFailed) as failed:
        SmtpSender(options, context=certificate.client_context()).send("a@example.cn", "email", "s", "b")
    assert failed.value.status_code == 503 and "SMTPAuthenticationError" in failed.value.detail
    assert inbox.messages == []


def test_implicit_tls(tls_relay: tuple[Inbox, int], certificate: Certificate) -> None:
    inbox, port = tls_relay
    options = SmtpOptions(host="127.0.0.1", port=port, sender=FROM, implicit_tls=True, timeout=5)
    SmtpSender(options, context=certificate.client_context()).send("du.fu@example.cn", "email", "s", "b")
    assert inbox.recipients == [["du.fu@example.cn"]]


def test_an_untrusted_certificate_is_refused(tls_relay: tuple[Inbox, int]) -> None:
    inbox, port = tls_relay
    # The system trust store does not know the test's self-signed certificate.
    options = SmtpOptions(host="127.0.0.1", port=port, sender=FROM, implicit_tls=True, timeout=5)
    with pytest.raises(DeliveryFailed) as failed:
        SmtpSender(options).send("x@example.cn", "email", "s", "b")
    assert "SSL" in failed.value.detail
    assert inbox.messages == []


def test_a_relay_without_starttls_is_not_used_in_plain_text(plain_relay: tuple[Inbox, int]) -> None:
    inbox, port = plain_relay
    sender = SmtpSender(SmtpOptions(host="127.0.0.1", port=port, sender=FROM, starttls=True, timeout=5))
    with pytest.raises(DeliveryFailed) as failed:
        sender.send("x@example.cn", "email", "s", "the code 123456")
    assert "SMTPNotSupportedError" in failed.value.detail
    assert inbox.messages == []


# --- faults and hostile input ---------------------------------------------------------------------------


def test_a_relay_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        sender = SmtpSender(
            SmtpOptions(host="127.0.0.1", port=port, sender=FROM, starttls=False, timeout=0.5)
        )
        # smtplib reports the read timeout as a disconnection; either way the sender gives up.
        with pytest.raises(DeliveryFailed) as failed:
            sender.send("x@example.cn", "email", "s", "b")
    assert failed.value.detail in ("smtp: SMTPServerDisconnected", "smtp: TimeoutError")


def test_a_closed_port_is_a_delivery_failure() -> None:
    sender = SmtpSender(
        SmtpOptions(host="127.0.0.1", port=free_port(), sender=FROM, starttls=False, timeout=2)
    )
    with pytest.raises(DeliveryFailed) as failed:
        sender.send("x@example.cn", "email", "s", "b")
    assert "ConnectionRefused" in failed.value.detail


@pytest.mark.parametrize(
    ("to", "subject"),
    [("a@example.cn\r\nBcc: victim@example.cn", "s"), ("a@example.cn", "s\r\nBcc: victim@example.cn")],
)
def test_no_header_injection(plain_relay: tuple[Inbox, int], to: str, subject: str) -> None:
    inbox, port = plain_relay
    sender = SmtpSender(SmtpOptions(host="127.0.0.1", port=port, sender=FROM, starttls=False, timeout=5))
    try:
        sender.send(to, "email", subject, "b")
    except DeliveryFailed:
        pass
    assert all("victim@example.cn" not in r for rs in inbox.recipients for r in rs)
    assert all(m["Bcc"] is None for m in inbox.messages)


def test_the_smtp_sender_does_not_send_sms(plain_relay: tuple[Inbox, int]) -> None:
    inbox, port = plain_relay
    sender = SmtpSender(SmtpOptions(host="127.0.0.1", port=port, sender=FROM, starttls=False))
    with pytest.raises(DeliveryFailed):
        sender.send("13800138000", "sms", "s", "b")
    assert inbox.messages == []


# --- choosing the sender from the settings --------------------------------------------------------------


def test_settings_route_email_to_smtp_and_sms_to_the_outbox(
    plain_relay: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = plain_relay
    settings = load_settings(
        environ={
            "IDP_SMTP_HOST": "127.0.0.1",
            "IDP_SMTP_PORT": str(port),
            "IDP_SMTP_FROM": FROM,
            "IDP_SMTP_STARTTLS": "false",
            "IDP_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    sender = build_sender(settings)
    sender.send("bai.juyi@example.cn", "email", "s", "by mail")
    sender.send("13800138000", "sms", "s", "by sms")
    assert [body_of(m).strip() for m in inbox.messages] == ["by mail"]
    assert [(m["to"], m["body"]) for m in read_outbox(tmp_path / "outbox")] == [("13800138000", "by sms")]


def test_without_a_relay_everything_goes_to_the_outbox(tmp_path: Path) -> None:
    sender = build_sender(load_settings(environ={"IDP_OUTBOX_DIR": str(tmp_path / "box")}))
    assert isinstance(sender, OutboxSender)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"IDP_SMTP_HOST": "smtp.example.cn"}, "IDP_SMTP_FROM"),
        ({"IDP_SMTP_HOST": "smtp.example.cn", "IDP_SMTP_FROM": "nobody"}, "IDP_SMTP_FROM"),
        ({"IDP_SMTP_PORT": "twenty-five"}, "IDP_SMTP_PORT"),
        ({"IDP_SMTP_STARTTLS": "maybe"}, "IDP_SMTP_STARTTLS"),
    ],
)
def test_unusable_smtp_settings_are_refused(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(environ=environ)
    assert problem in str(refused.value)


def test_production_refuses_smtp_without_tls() -> None:
    safe = {
        "IDP_ENV": "production",
        "IDP_SECRET_KEY": "s" * 40,
        "IDP_DATA_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=",
        "IDP_ISSUER": "https://fuwu.most.test",
        "IDP_REALNAME_SOURCE_TOKEN": "a-real-token",
        "IDP_CAPTCHA": "always",
        "IDP_SMTP_HOST": "smtp.example.cn",
        "IDP_SMTP_FROM": FROM,
    }
    assert load_settings(environ=safe).smtp_starttls
    assert load_settings(environ={**safe, "IDP_SMTP_STARTTLS": "false", "IDP_SMTP_SSL": "true"}).smtp_ssl
    with pytest.raises(ConfigError) as refused:
        load_settings(environ={**safe, "IDP_SMTP_STARTTLS": "false"})
    assert "without STARTTLS or TLS" in str(refused.value)


# --- the outbox -----------------------------------------------------------------------------------------


def test_the_outbox_writes_one_private_file_per_message_and_logs_no_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = OutboxSender(tmp_path / "outbox")
    subject, body = code_message("reset", "135790", 10, "sms")
    outbox.send("13800138000", "sms", subject, body)
    outbox.send("liu.yuxi@example.cn", "email", "Subject\r\nX-Forged: 1", "第二条\n消息")

    first, second = read_outbox(tmp_path / "outbox")
    assert first["to"] == "13800138000" and first["channel"] == "sms" and "135790" in first["body"]
    assert second["subject"] == "Subject X-Forged: 1" and second["body"] == "第二条\n消息"
    assert "x-forged" not in second
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(not f.name.startswith(".") for f in files)
    assert all("13800138000" not in f.name and "liu.yuxi" not in f.name for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert stat.S_IMODE((tmp_path / "outbox").stat().st_mode) == 0o700

    logged = [r for r in caplog.records if r.name == "idp.notify.outbox"]
    assert len(logged) == 2
    text = " ".join(r.getMessage() + str(getattr(r, "fields", "")) for r in logged)
    assert "135790" not in text and "13800138000" not in text and "13******000" in text
    assert "l***@example.cn" in text


def test_an_unwritable_outbox_is_a_delivery_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(DeliveryFailed):
        OutboxSender(blocker / "outbox").send("13800138000", "sms", "s", "b")


def test_background_failures_are_logged_without_the_body(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    sender = SmtpSender(
        SmtpOptions(host="127.0.0.1", port=free_port(), sender=FROM, starttls=False, timeout=2)
    )
    send_in_background(sender, "xu.wei@example.cn", "email", "s", "secret code 864213").join(10)
    (record,) = [r for r in caplog.records if r.name == "idp.notify.wiring"]
    logged = {key: value for key, value in vars(record).items() if "864213" in str(value)}
    assert logged == {}
    assert getattr(record, "fields", None) == {
        "channel": "email",
        "to": "x***@example.cn",
        "detail": "smtp: ConnectionRefusedError",
    }


def test_outbox_files_are_complete_even_when_many_threads_write(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    threads = [
        threading.Thread(target=outbox.send, args=(f"1380000{n:04d}", "sms", "s", "x" * 20_000))
        for n in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    messages = read_outbox(tmp_path / "outbox")
    assert len(messages) == 20 and all(m["body"] == "x" * 20_000 for m in messages)
    assert not [name for name in os.listdir(tmp_path / "outbox") if name.endswith(".part")]
