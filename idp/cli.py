"""The ``idp`` operator command. Bad arguments and refused actions exit non-zero with a clear message."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

import click

from idp.catalogue.cli import catalogue, notice
from idp.config import Settings, load_settings
from idp.db import Database
from idp.errors import ConfigError, DomainError, StoreUnavailable
from idp.orgs.cli import org

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Map the error families to messages and exit codes instead of tracebacks."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"configuration error: {exc}", err=True)
            sys.exit(ConfigError.exit_code)
        except DomainError as exc:
            click.echo(f"error: {exc.public}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return load_settings()


def _db(settings: Settings) -> Database:
    return Database(settings.database_url)


@click.group()
def main() -> None:
    """Operate the ministry sign-on platform's identity provider."""


# ---- serve -------------------------------------------------------------------------------
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64))
@friendly
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the IdP under gunicorn (the production server)."""
    import os
    import tempfile

    from gunicorn.app.base import BaseApplication

    from idp.observability import configure_logging, mark_worker_dead

    _settings()  # bad configuration is refused before anything starts
    configure_logging(level="INFO", json_lines=True)
    # Metrics from every worker are summed through a shared directory, emptied at each start.
    metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="idp-metrics-"))
    for stale in os.listdir(metrics_dir):
        if stale.endswith(".db"):
            os.unlink(os.path.join(metrics_dir, stale))
    # Fail before forking workers: bad settings or missing keys refuse to start.
    from idp import create_app

    create_app()

    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": None,  # the app writes JSON request lines itself
        "proc_name": "idp",
        # Client address and scheme come only through IDP_TRUSTED_PROXIES in the app.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        # gunicorn's per-user control socket would be shared by every app on the machine.
        "control_socket_disable": True,
        "child_exit": lambda _server, worker: mark_worker_dead(worker.pid),
    }

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app()

    _App().run()


# ---- database ----------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@friendly
def db_upgrade(revision: str) -> None:
    """Apply the migration chain."""
    from idp.migrations.runner import upgrade

    settings = _settings()
    try:
        upgrade(settings.database_url, revision)
    except Exception as exc:  # noqa: BLE001 - alembic and drivers raise many kinds; report, exit non-zero
        click.echo(f"error: migration failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", err=True)
        sys.exit(1)
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("revision")
@friendly
def db_downgrade(revision: str) -> None:
    """Revert to REVISION (``base`` removes everything)."""
    from idp.migrations.runner import downgrade

    downgrade(_settings().database_url, revision)
    click.echo(f"database downgraded to {revision}")


# ---- clients -----------------------------------------------------------------------------
@main.group()
def client() -> None:
    """Relying parties and service clients."""


@client.command("add")
@click.option("--client-id", required=True)
@click.option("--secret", default=None, help="Given secret (at least 16 characters); generated when omitted.")
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--public", is_flag=True, help="A public client (no secret; PKCE required).")
@click.option("--first-party", is_flag=True, help="A ministry subsystem: no consent screen.")
@click.option("--allow-idcard", is_flag=True, help="May receive the full ID number (scope idcard).")
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option("--backchannel-logout-uri", default=None)
@click.option("--frontchannel-logout-uri", default=None)
@click.option("--name", default="")
@click.option(
    "--grant-type",
    "grant_types",
    multiple=True,
    type=click.Choice(["authorization_code", "refresh_token", "client_credentials"]),
)
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]),
    default=None,
)
@click.option("--jwks", default=None, help="Public JWK set (JSON) for private_key_jwt.")
@click.option(
    "--id-token-alg", type=click.Choice(["RS256", "ES256"]), default=None, help="Default: IDP_SIGNING_ALG."
)
@click.option(
    "--access-token-alg",
    type=click.Choice(["RS256", "ES256"]),
    default=None,
    help="Default: IDP_SIGNING_ALG.",
)
@click.option("--scope", default=None, help="Allowed scopes (space separated).")
@click.option("--catalogue", default=None, help="Service-catalogue entry as JSON.")
@friendly
def client_add(**opts: Any) -> None:
    """Register a client. Prints the secret when it was generated."""
    from idp.oidc.clients import ClientService, ClientSpec

    settings = _settings()
    spec = ClientSpec(
        client_id=opts["client_id"],
        redirect_uris=list(opts["redirect_uris"]),
        name=opts["name"],
        secret=opts["secret"],
        public=opts["public"],
        first_party=opts["first_party"],
        allow_idcard=opts["allow_idcard"],
        post_logout_redirect_uris=list(opts["logout_uris"]),
        backchannel_logout_uri=opts["backchannel_logout_uri"],
        frontchannel_logout_uri=opts["frontchannel_logout_uri"],
        grant_types=list(opts["grant_types"]) or ["authorization_code", "refresh_token"],
        auth_method=opts["auth_method"],
        jwks=opts["jwks"],
        id_token_alg=opts["id_token_alg"],
        access_token_alg=opts["access_token_alg"],
        scope=opts["scope"],
        catalogue=opts["catalogue"],
    )
    record, secret = ClientService(_db(settings), settings).add(spec)
    click.echo(f"client {record.client_id} registered")
    if secret:
        click.echo(f"client_secret: {secret}")


@client.command("list")
@click.option("--json", "as_json", is_flag=True)
@friendly
def client_list(as_json: bool) -> None:
    """List registered clients."""
    from idp.oidc.clients import ClientService

    settings = _settings()
    rows = ClientService(_db(settings), settings).list()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "client_id": c.client_id,
                        "name": c.name,
                        "public": c.public,
                        "first_party": c.first_party,
                        "redirect_uris": c.redirect_uris,
                        "grant_types": c.grant_types,
                    }
                    for c in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    for c in rows:
        kind = "public" if c.public else "confidential"
        flags = " first-party" if c.first_party else ""
        click.echo(f"{c.client_id}\t{kind}{flags}\t{' '.join(c.redirect_uris)}")


@client.command("remove")
@click.argument("client_id")
@friendly
def client_remove(client_id: str) -> None:
    """Remove a client and everything issued to it."""
    from idp.oidc.clients import ClientService

    settings = _settings()
    ClientService(_db(settings), settings).remove(client_id)
    click.echo(f"client {client_id} removed")


# ---- keys --------------------------------------------------------------------------------
@main.group()
def keys() -> None:
    """Signing keys."""


@keys.command("rotate")
@click.option("--alg", type=click.Choice(["RS256", "ES256"]), default="RS256", show_default=True)
@friendly
def keys_rotate(alg: str) -> None:
    """Sign with the published next key (or a new one); keep the old one in JWKS until its tokens expire."""
    from idp.oidc.keys import KeyService

    settings = _settings()
    active, upcoming = KeyService(_db(settings), settings).rotate(alg)
    click.echo(f"{alg}: now signing with {active}; published next key {upcoming}")


@keys.command("list")
@friendly
def keys_list() -> None:
    """List signing keys and their states."""
    from idp.oidc.keys import KeyService

    settings = _settings()
    for row in KeyService(_db(settings), settings).list_keys():
        until = f" until {row.publish_until:%Y-%m-%d %H:%M}" if row.publish_until else ""
        click.echo(f"{row.kid}\t{row.alg}\t{row.state}{until}")


# ---- users -------------------------------------------------------------------------------
def _accounts(settings: Settings) -> Any:
    from idp.accounts.services import AccountService
    from idp.store import open_store

    database = _db(settings)
    return AccountService(database, open_store(settings.redis_url, database, settings.redis_prefix), settings)


@main.group()
def user() -> None:
    """People who sign in."""


@user.command("add")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--email", default=None)
@click.option("--phone", default=None)
@friendly
def user_add(username: str, password: str, name: str | None, email: str | None, phone: str | None) -> None:
    """Add a natural person."""
    created = _accounts(_settings()).create_user(
        username, password, name=name, email=email, phone_number=phone, actor="cli"
    )
    click.echo(f"user {created.username} added (sub {created.id})")


@user.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
@friendly
def user_delete(username: str, yes: bool) -> None:
    """Erase a natural person's account, profile, ID photos, grants and tokens."""
    from idp.accounts.deletion import delete_person
    from idp.store import open_store

    if not yes:
        click.echo("refusing without --yes: deletion cannot be undone", err=True)
        sys.exit(2)
    settings = _settings()
    database = _db(settings)
    subject = delete_person(
        database, open_store(settings.redis_url, database, settings.redis_prefix), username, "cli"
    )
    click.echo(f"deleted {username} (sub {subject})")


@user.command("grant-reviewer")
@click.argument("username")
@friendly
def user_grant_reviewer(username: str) -> None:
    """Give USERNAME the reviewer role (real-name manual review)."""
    from idp.accounts.roles import grant_role

    settings = _settings()
    grant_role(_db(settings), username, "reviewer", actor="cli")
    click.echo(f"{username} is now a reviewer")


@user.command("set-realname")
@click.argument("username")
@click.option(
    "--status",
    required=True,
    type=click.Choice(["unverified", "verified", "failed", "pending_review", "reviewed"]),
)
@click.option("--id-number", default=None, help="Resident ID number (synthetic numbers only in demos).")
@click.option("--name", default=None)
@friendly
def user_set_realname(username: str, status: str, id_number: str | None, name: str | None) -> None:
    """Demo and test support: set a real-name status directly (refused in production)."""
    from idp.realname.demo_status import force_status
    from idp.realname.status import RealnameStatus

    settings = _settings()
    force_status(_db(settings), settings, username, RealnameStatus(status), id_number, name)
    click.echo(f"{username}: realname_status={status}")


@main.group()
def users() -> None:
    """Bulk operations on accounts."""


@users.command("import-legacy")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@friendly
def users_import_legacy(csv_file: str, dry_run: bool) -> None:
    """Import the old system's accounts (their old password hashes become argon2id at first sign-in)."""
    from pathlib import Path

    from idp.accounts.legacy_import import import_legacy
    from idp.realname.identity import IdentityCodec

    settings = _settings()
    report = import_legacy(
        _db(settings), IdentityCodec(settings), Path(csv_file).read_bytes(), dry_run, "cli"
    )
    verb = "would import" if dry_run or report.rejected else "imported"
    click.echo(
        f"{verb} {len(report.imported)}, skipped {len(report.skipped)}, rejected {len(report.rejected)}"
    )
    for line, username, reason in report.skipped:
        click.echo(f"  skipped line {line} {username}: {reason}")
    for line, username, reason in report.rejected:
        click.echo(f"  rejected line {line} {username}: {reason}")
    if report.rejected:
        click.echo("nothing was imported: correct the rejected rows and run the import again", err=True)
        sys.exit(2)


# ---- demo --------------------------------------------------------------------------------
@main.group()
def demo() -> None:
    """Demo data for the embedded mode."""


@demo.command("seed")
@click.option("--rp-base-url", default="http://127.0.0.1:8002", show_default=True)
@friendly
def demo_seed(rp_base_url: str) -> None:
    """Register the training system's client and demo people (idempotent)."""
    from idp.demo import DemoSettings, seed
    from idp.store import open_store

    settings = _settings()
    database = _db(settings)
    lines = seed(
        database,
        open_store(settings.redis_url, database, settings.redis_prefix),
        settings,
        DemoSettings(rp_base_url=rp_base_url),
    )
    for line in lines or ["demo data already present"]:
        click.echo(line)


main.add_command(org)
main.add_command(catalogue)
main.add_command(notice)


def run(argv: Sequence[str] | None = None) -> int:
    try:
        main.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except StoreUnavailable as exc:
        click.echo(f"error: {exc.public}", err=True)
        return exc.exit_code
    return 0
