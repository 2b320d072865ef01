"""A real IdP server process for the interoperability and browser tests, operated through its CLI.

The IdP runs exactly as an operator runs it: ``idp db upgrade``, then ``idp serve`` (gunicorn, two
workers, so consecutive requests of one flow may land on different processes), with clients and
people added by ``idp client add`` and ``idp user add``. :func:`sign_in_over_http` plays the part
of a browser for tests that do not need a real one.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.support.live import ROOT, free_port, running

#: What the ``idp`` console script runs, without needing the project installed.
IDP_COMMAND = [sys.executable, "-c", "import sys; from idp.cli import main; sys.exit(main())"]
CLI_TIMEOUT = 120.0
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0
MAX_HOPS = 10

CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]*)"')
LOGIN_FORM_RE = re.compile(r'<form[^>]*class="login-form"[^>]*action="([^"]*)"')
CONSENT_TX_RE = re.compile(r'<input[^>]*name="tx"[^>]*value="([^"]*)"')


@dataclass(frozen=True)
class LiveIdP:
    issuer: str
    env: Mapping[str, str]
    log_path: Path

    def cli(self, *args: str) -> str:
        """Run ``idp ARGS`` against this IdP's database; fail the test with its stderr if it fails."""
        result = subprocess.run(
            [*IDP_COMMAND, *args],
            env={**os.environ, **self.env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"idp {args[0]} {args[1] if len(args) > 1 else ''} failed "
                f"({result.returncode}): {result.stderr[-2000:]}"
            )
        return result.stdout

    def add_user(self, username: str, password: str, name: str, email: str) -> str:
        """Add a natural person; returns their subject identifier."""
        out = self.cli(
            "user", "add", "--username", username, "--password", password, "--name", name, "--email", email
        )
        match = re.search(r"\(sub ([^)]+)\)", out)
        assert match, f"idp user add printed no subject: {out!r}"
        return match.group(1)

    def add_client(
        self,
        client_id: str,
        redirect_uri: str,
        *,
        secret: str | None = None,
        public: bool = False,
        first_party: bool = True,
        post_logout_redirect_uri: str | None = None,
    ) -> None:
        args = [
            "client",
            "add",
            "--client-id",
            client_id,
            "--redirect-uri",
            redirect_uri,
            "--name",
            client_id,
        ]
        if secret is not None:
            args += ["--secret", secret]
        if public:
            args.append("--public")
        if first_party:
            args.append("--first-party")
        if post_logout_redirect_uri:
            args += ["--post-logout-redirect-uri", post_logout_redirect_uri]
        self.cli(*args)


def idp_env(work: Path, port: int, database_url: str, redis_url: str = "") -> dict[str, str]:
    """Every setting the test depends on is given, so a developer's own ``IDP_*`` variables do not leak in."""
    return {
        "IDP_ENV": "development",
        "IDP_DATABASE_URL": database_url,
        "IDP_REDIS_URL": redis_url,
        # A prefix of its own, so parallel runs sharing the test Redis never see each other's keys.
        "IDP_REDIS_PREFIX": f"it{uuid.uuid4().hex[:12]}:",
        "IDP_ISSUER": f"http://127.0.0.1:{port}",
        "IDP_CAPTCHA": "off",
        "IDP_INSTANCE_DIR": str(work),
        "IDP_OUTBOX_DIR": str(work / "outbox"),
        "IDP_GENERATE_KEYS": "true",
    }


@contextmanager
def live_idp(
    work: Path, database_url: str | None = None, redis_url: str = "", workers: int = 2
) -> Iterator[LiveIdP]:
    """Migrate the database, start ``idp serve`` on a free loopback port, stop it afterwards."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = idp_env(work, port, database_url or f"sqlite:///{work / 'idp.sqlite3'}", redis_url)
    idp = LiveIdP(issuer=env["IDP_ISSUER"], env=env, log_path=work / "idp.log")
    idp.cli("db", "upgrade")
    serve = [*IDP_COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    try:
        with running(serve, env, f"{idp.issuer}/healthz", idp.log_path, timeout=START_TIMEOUT):
            yield idp
    finally:
        if redis_url:
            _drop_redis_keys(redis_url, env["IDP_REDIS_PREFIX"])


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    conn = redis.Redis.from_url(url, socket_timeout=5)
    try:
        keys = list(conn.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            conn.delete(*keys)
    finally:
        conn.close()


def _form_value(pattern: re.Pattern[str], page: str, what: str) -> str:
    match = pattern.search(page)
    assert match, f"no {what} on the page: {page[:500]!r}"
    return html.unescape(match.group(1))


def sign_in_over_http(
    session: requests.Session, authorization_url: str, username: str, password: str, redirect_uri: str
) -> str:
    """Open the authorization URL, sign in on the login page, consent if asked; return the callback URL.

    The redirect URI is never contacted: the URL the IdP sends the browser to is what a relying
    party would receive, and is returned as soon as it appears.
    """
    response = session.get(authorization_url, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200 and "/login" in response.url, (
        f"expected the login page, got {response.status_code} at {response.url}"
    )
    page = response.text
    action = urljoin(response.url, _form_value(LOGIN_FORM_RE, page, "login form"))
    response = session.post(
        action,
        data={
            "csrf_token": _form_value(CSRF_RE, page, "CSRF token"),
            "account_type": "natural",
            "username": username,
            "password": password,
        },
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    return follow_to_redirect_uri(session, response, redirect_uri)


def follow_to_redirect_uri(session: requests.Session, response: requests.Response, redirect_uri: str) -> str:
    """Follow the IdP's redirects (and its consent page) until it sends the browser to ``redirect_uri``."""
    for _ in range(MAX_HOPS):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(redirect_uri + "?"):
                return target
            response = session.get(target, allow_redirects=False, timeout=HTTP_TIMEOUT)
        elif response.status_code == 200 and 'name="tx"' in response.text:
            page = response.text
            response = session.post(
                urljoin(response.url, "/authorize/consent"),
                data={
                    "csrf_token": _form_value(CSRF_RE, page, "CSRF token"),
                    "tx": _form_value(CONSENT_TX_RE, page, "consent transaction"),
                    "decision": "allow",
                },
                allow_redirects=False,
                timeout=HTTP_TIMEOUT,
            )
        else:
            raise AssertionError(
                f"the IdP answered {response.status_code} at {response.url}: {response.text[:500]!r}"
            )
    raise AssertionError(f"no redirect to {redirect_uri} within {MAX_HOPS} hops")
