"""Where a request's time goes: per-request database and store work of every benchmark case.

Runs each case of ``bench/run.sh`` REQUESTS times through the IdP's WSGI app in this process (Flask
test client: no HTTP server, one thread) against a scratch PostgreSQL database and Redis prefix,
and prints per request: milliseconds, database transactions (each a pool checkout with its
pre-ping, BEGIN and COMMIT round trips), SQL statements by verb, and calls into the short-lived
store. With ``--profile CASE`` it also prints the functions that case spends its time in and the SQL
statements of its last request.

Usage::

    python -m bench.costs [--requests 200] [--profile userinfo]

Settings: BENCH_PG_URL and BENCH_REDIS_URL as for run.sh. Like run.sh it removes its scratch
database and Redis keys at exit. It measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import functools
import io
import logging
import os
import pstats
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from bench import scratch, seed
from idp.errors import ConfigError, DomainError

RP = "bench-rp"
REDIRECT = "http://127.0.0.1:9/cb"
SECRET = "bench-secret-0123456789abcdef"  # noqa: S105 - a scratch client that lives for one run
SERVICES = {"cc_jwt_rs256": ("bench-svc-rs256", "RS256"), "cc_jwt_es256": ("bench-svc-es256", "ES256")}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
STORE_CALLS = ("put", "add", "get", "consume", "delete", "incr")
EXIT_USAGE = 2


def _basic(client_id: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{SECRET}".encode()).decode()}


@dataclass
class Tally:
    """What the app did while counting was on."""

    checkouts: int = 0
    statements: Counter[str] = field(default_factory=Counter)
    store_calls: int = 0
    counting: bool = False
    #: Statements of one request, when asked for.
    captured: list[str] | None = None

    def reset(self) -> None:
        self.checkouts, self.store_calls = 0, 0
        self.statements.clear()


def instrument(app: Flask, tally: Tally) -> None:
    """Count pool checkouts and statements on the app's engine, and calls into its store."""
    svc = app.extensions["idp"]

    def on_checkout(*_: Any) -> None:
        if tally.counting:
            tally.checkouts += 1

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if tally.counting:
            tally.statements[statement.split(None, 1)[0].upper()] += 1
        if tally.captured is not None:
            tally.captured.append(" ".join(statement.split())[:150])

    event.listen(svc.db.engine, "checkout", on_checkout)
    event.listen(svc.db.engine, "before_cursor_execute", on_statement)
    for name in STORE_CALLS:
        original = getattr(svc.store, name)

        def counted(*args: Any, _original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            if tally.counting:
                tally.store_calls += 1
            return _original(*args, **kwargs)

        setattr(svc.store, name, functools.wraps(original)(counted))


Case = Callable[[int], Any]


def cases(client: FlaskClient, access_token: str, refresh: list[str], codes: list[str]) -> dict[str, Case]:
    """The requests of bench/run.sh; ``i`` picks the i-th single-use body where one is needed."""
    rp = {**_basic(RP), **FORM}
    out: dict[str, Case] = {
        "discovery": lambda i: client.get("/.well-known/openid-configuration"),
        "jwks": lambda i: client.get("/jwks"),
        "introspect": lambda i: client.post("/introspect", data="token=" + access_token, headers=rp),
        "userinfo": lambda i: client.get("/userinfo", headers={"Authorization": "Bearer " + access_token}),
        "refresh": lambda i: client.post("/token", data=refresh[i], headers=rp),
    }
    for name, (client_id, _) in SERVICES.items():
        headers = {**_basic(client_id), **FORM}
        out[name] = functools.partial(
            lambda i, h: client.post("/token", data="grant_type=client_credentials", headers=h), h=headers
        )
    out["code"] = lambda i: client.post("/token", data=codes[i], headers=rp)
    return out


@contextmanager
def scratch_idp(pg_url: str, redis_url: str) -> Iterator[Flask]:
    """An IdP app on a new database and Redis prefix, both removed afterwards."""
    from idp import create_app
    from idp.migrations.runner import upgrade

    scratch.check(pg_url, redis_url)
    name = f"idp_bench_costs_{secrets.token_hex(4)}"
    prefix = f"bench{secrets.token_hex(6)}:"
    db_url = scratch.create_db(pg_url, name)
    try:
        with tempfile.TemporaryDirectory() as instance:
            upgrade(db_url, "heads")
            yield create_app(
                {
                    "database_url": db_url,
                    "redis_url": redis_url,
                    "redis_prefix": prefix,
                    "issuer": "http://127.0.0.1:1",
                    "captcha": "off",
                    "outbox_dir": os.path.join(instance, "outbox"),
                    # Seeding happens before the first case; no code may expire on the way.
                    "code_ttl": 3600,
                }
            )
    finally:
        scratch.drop_db(pg_url, name)
        scratch.clear_redis(redis_url, prefix)


def register_clients(app: Flask) -> None:
    from idp.oidc.clients import ClientService, ClientSpec

    svc = app.extensions["idp"]
    clients = ClientService(svc.db, svc.settings)
    clients.add(ClientSpec(client_id=RP, secret=SECRET, redirect_uris=[REDIRECT], first_party=True))
    for client_id, alg in SERVICES.values():
        clients.add(
            ClientSpec(
                client_id=client_id,
                secret=SECRET,
                redirect_uris=[],
                grant_types=["client_credentials"],
                access_token_alg=alg,
            )
        )


def measure(name: str, case: Case, requests: int, tally: Tally, profile: bool) -> str:
    first = case(requests)  # warm-up with the spare body; also proves the case works
    if first.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {first.status_code}: {first.get_data(as_text=True)[:200]}")
    profiler = cProfile.Profile() if profile else None
    tally.reset()
    tally.counting = True
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for i in range(requests):
        if profiler and i == requests - 1:
            tally.captured = []
        answer = case(i)
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {answer.status_code} on request {i}")
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    tally.counting = False
    verbs = " ".join(f"{verb} {count / requests:.1f}" for verb, count in sorted(tally.statements.items()))
    line = (
        f"{name:<14} {elapsed / requests * 1000:8.2f} {tally.checkouts / requests:6.1f} "
        f"{sum(tally.statements.values()) / requests:6.1f} {tally.store_calls / requests:6.1f}   {verbs}"
    )
    if profiler:
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(40)
        line += "\n" + report.getvalue() + "SQL of the last request:\n  " + "\n  ".join(tally.captured or [])
        tally.captured = None
    return line


def run(requests: int, profile: str | None, pg_url: str, redis_url: str) -> None:
    # The access log would dominate the measurement: one JSON line per request on stderr.
    logging.getLogger("idp.access").disabled = True
    with scratch_idp(pg_url, redis_url) as app:
        register_clients(app)
        svc = app.extensions["idp"]
        seeding = seed.open_services(svc.settings)
        access_token = seed.seed_person(seeding, RP)
        refresh = list(seed.seed_refresh_tokens(seeding, RP, requests + 1))
        codes = list(seed.seed_codes(seeding, RP, REDIRECT, requests + 1))
        tally = Tally()
        instrument(app, tally)
        print(
            f"{'case':<14} {'ms/req':>8} {'tx':>6} {'sql':>6} {'store':>6}   statements by verb (per request)"
        )
        for name, case in cases(app.test_client(), access_token, refresh, codes).items():
            print(measure(name, case, requests, tally, profile == name), flush=True)
        print(f"# {requests} requests per case, one thread, in-process; tx = database transactions")


def _requests(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError("requests per case must be 1-100000")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.costs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=_requests, default=200, help="per case, 1-100000 (default 200)")
    parser.add_argument(
        "--profile",
        choices=["discovery", "jwks", "introspect", "userinfo", "refresh", "code"] + list(SERVICES),
    )
    args = parser.parse_args(argv)
    pg_url = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        run(args.requests, args.profile, pg_url, redis_url)
    except scratch.ScratchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return exc.exit_code
    except RuntimeError as exc:
        print(f"bench costs: a case failed: {exc}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"bench costs: configuration error: {exc}", file=sys.stderr)
        return ConfigError.exit_code
    except DomainError as exc:
        detail = f" ({exc.detail})" if exc.detail != exc.public else ""
        print(f"bench costs: {exc.public}{detail}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
