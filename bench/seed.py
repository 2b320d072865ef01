"""Seeds what the benchmark's token cases redeem, through the IdP's own Python services.

Reads the same ``IDP_*`` variables as the server, so it writes to the server's database and Redis
prefix. Refresh tokens rotate and codes are single use, so every wrk request needs its own: the
``refresh`` and ``codes`` commands seed COUNT of them and write one ready form body per line, which
``bench/lua/one_each.lua`` posts once each.

Usage::

    python bench/seed.py person  --client-id ID --out FILE          # a person + one access token
    python bench/seed.py refresh --client-id ID --count N --out FILE
    python bench/seed.py codes   --client-id ID --count N --out FILE --redirect-uri URI

Failures print one line on stderr and exit non-zero (2: bad arguments, 78: configuration,
69: database or Redis unreachable), never a traceback.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert, select

from idp.accounts.models import User
from idp.accounts.services import AccountService
from idp.config import Settings, load_settings
from idp.db import Database, utcnow
from idp.errors import ConfigError, DomainError
from idp.oidc.adapters import ClientAdapter, CodeRecord
from idp.oidc.grants import code_key
from idp.oidc.keys import KeyRing, KeyService
from idp.oidc.models import OAuthClient, RefreshToken, TokenFamily
from idp.oidc.server import OIDCContext
from idp.oidc.tokens import FamilyContext
from idp.oidc.userclaims import ClaimLoader
from idp.realname.demo_status import force_status
from idp.realname.idnumber import generate_id_number
from idp.realname.status import RealnameStatus
from idp.store import EphemeralStore, open_store

BENCH_USERNAME = "bench_person"
#: What a relying party of the platform typically asks for; ``openid`` makes every grant sign an ID
#: token, ``realname`` adds the verified claims.
SCOPE = "openid profile email realname"
#: A synthetic resident ID number, generated with a valid check character and taken from no one: the
#: benchmark's person is verified, like everyone the training system lets in, so loading their
#: claims does the full work (verified claims, the sealed number opened).
SYNTHETIC_ID = generate_id_number(region="110101", birth_date=date(1990, 1, 1), seq=998)
AMR = ["pwd"]
#: Rows per INSERT statement when seeding refresh-token families.
BATCH = 2000
MAX_COUNT = 2_000_000
EXIT_USAGE = 2


@dataclass
class Services:
    settings: Settings
    db: Database
    store: EphemeralStore
    oidc: OIDCContext


def open_services(settings: Settings | None = None) -> Services:
    """The objects the IdP's app factory builds, minus Flask; settings from ``IDP_*`` by default."""
    settings = settings or load_settings()
    db = Database(settings.database_url)
    store = open_store(settings.redis_url, db, settings.redis_prefix)
    KeyService(db, settings).ensure_initial_keys()
    oidc = OIDCContext(settings, db, store, KeyRing(db, settings), ClaimLoader(db, settings))
    return Services(settings, db, store, oidc)


def _client(svc: Services, client_id: str) -> OAuthClient:
    record = svc.oidc.client(client_id)
    if record is None:
        raise DomainError(f"no client {client_id!r}: register it with `idp client add` first")
    return record


def _person_id(svc: Services) -> str:
    with svc.db.transaction() as session:
        user_id = session.scalar(select(User.id).where(User.username_key == BENCH_USERNAME))
    if user_id is None:
        raise DomainError(f"no person {BENCH_USERNAME!r}: run `seed.py person` first")
    return user_id


def _family(user_id: str) -> FamilyContext:
    # As if the person had just signed in with a password and authorised the client.
    return FamilyContext(
        family_id=secrets.token_hex(16),
        user_id=user_id,
        scope=SCOPE,
        auth_time=int(time.time()),
        amr=list(AMR),
    )


def seed_person(svc: Services, client_id: str) -> str:
    """Create the benchmark's person, verified; return an access token for them, issued as a code
    exchange would."""
    client = _client(svc, client_id)
    # Nobody signs in interactively during the benchmark: the password only has to be valid.
    user = AccountService(svc.db, svc.store, svc.settings).create_user(
        BENCH_USERNAME, secrets.token_urlsafe(18), name="压测用户", email="bench@example.cn", actor="bench"
    )
    force_status(svc.db, svc.settings, BENCH_USERNAME, RealnameStatus.VERIFIED, SYNTHETIC_ID, None)
    tokens = svc.oidc.issue(ClientAdapter(client, svc.settings), _family(user.id), True, "authorization_code")
    return str(tokens["access_token"])


def seed_refresh_tokens(svc: Services, client_id: str, count: int) -> Iterator[str]:
    """``count`` refresh-token families of one live token each; yields the token request bodies.

    Rows are written as ``TokenIssuer.open_family`` and ``new_refresh_token`` write them (the same
    keyed hash, context JSON and expiry), in batches: one transaction per token would take minutes.
    """
    client = _client(svc, client_id)
    user_id = _person_id(svc)
    issuer = svc.oidc.issuer
    expires = utcnow() + timedelta(seconds=svc.settings.refresh_token_ttl)
    for start in range(0, count, BATCH):
        families: list[dict[str, object]] = []
        rows: list[dict[str, object]] = []
        bodies: list[str] = []
        for _ in range(min(BATCH, count - start)):
            ctx = _family(user_id)
            token = secrets.token_urlsafe(32)
            families.append(
                {
                    "id": ctx.family_id,
                    "client_id": client.client_id,
                    "user_id": ctx.user_id,
                    "scope": ctx.scope,
                    "sid": ctx.sid,
                    "auth_time": ctx.auth_time,
                    "context_json": json.dumps({"amr": ctx.amr, "nonce": ctx.nonce, "extra": ctx.extra}),
                }
            )
            rows.append(
                {"token_hash": issuer.rt_hash(token), "family_id": ctx.family_id, "expires_at": expires}
            )
            bodies.append(urlencode({"grant_type": "refresh_token", "refresh_token": token}))
        with svc.db.transaction() as session:
            session.execute(insert(TokenFamily), families)
            session.execute(insert(RefreshToken), rows)
        yield from bodies


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seed_codes(svc: Services, client_id: str, redirect_uri: str, count: int) -> Iterator[str]:
    """``count`` single-use codes stored exactly as ``CodeGrant.save_authorization_code`` stores them
    (same key, record and TTL), each bound to its own S256 challenge; yields the token request bodies."""
    client = _client(svc, client_id)
    if redirect_uri not in client.redirect_uris:
        raise DomainError(f"{redirect_uri!r} is not a registered redirect URI of {client_id!r}")
    user_id = _person_id(svc)
    for _ in range(count):
        # Authlib makes 48-character codes; a verifier of 64 characters is within RFC 7636's 43-128.
        code = secrets.token_urlsafe(36)
        verifier = secrets.token_urlsafe(48)
        ctx = _family(user_id)
        record = CodeRecord(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=ctx.scope,
            user_id=user_id,
            auth_time=int(ctx.auth_time or 0),
            family_id=ctx.family_id,
            nonce=secrets.token_urlsafe(12),
            code_challenge=s256(verifier),
            code_challenge_method="S256",
            amr=list(AMR),
        )
        svc.store.put(code_key(code), record.to_json(), svc.settings.code_ttl)
        yield urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            }
        )


def _write_lines(path: Path, lines: Iterator[str]) -> int:
    written = 0
    with path.open("w", encoding="ascii") as out:
        for line in lines:
            out.write(line + "\n")
            written += 1
    return written


def _count(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"count must be 1-{MAX_COUNT}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench/seed.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("person", "refresh", "codes"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--client-id", required=True)
        cmd.add_argument("--out", required=True, type=Path)
        if name != "person":
            cmd.add_argument("--count", required=True, type=_count)
        if name == "codes":
            cmd.add_argument("--redirect-uri", required=True)
    return parser


def run(args: argparse.Namespace) -> str:
    svc = open_services()
    if args.command == "person":
        args.out.write_text(seed_person(svc, args.client_id) + "\n", encoding="ascii")
        return f"seeded person {BENCH_USERNAME} and one access token"
    if args.command == "refresh":
        n = _write_lines(args.out, seed_refresh_tokens(svc, args.client_id, args.count))
        return f"seeded {n} refresh-token families (one unused token each)"
    n = _write_lines(args.out, seed_codes(svc, args.client_id, args.redirect_uri, args.count))
    return f"seeded {n} authorization codes with S256 challenges (TTL {svc.settings.code_ttl} s)"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        print(run(args))
    except ConfigError as exc:
        print(f"bench seed: configuration error: {exc}", file=sys.stderr)
        return ConfigError.exit_code
    except DomainError as exc:
        detail = f" ({exc.detail})" if exc.detail != exc.public else ""
        print(f"bench seed: {exc.public}{detail}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"bench seed: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
