"""``training-rp``: operate the training system.

Exit codes: 0 success, 2 invalid input, 3 not found, 4 conflict, 69 database unavailable,
70 undecryptable data, 78 configuration refused.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import click

from training_rp.config import Settings, load_settings
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.errors import ConfigError, RpError
from training_rp.services.accounts import AccountService

F = TypeVar("F", bound=Callable[..., Any])


def _reported(command: F) -> F:
    """Turn the error families into a one-line message and their exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"configuration refused: {exc}", err=True)
            sys.exit(exc.exit_code)
        except RpError as exc:
            click.echo(f"error: {exc.detail}", err=True)
            sys.exit(exc.exit_code)

    return cast(F, wrapper)


def _settings() -> Settings:
    return load_settings()


@click.group(help="因公出国(境)培训项目管理系统: the training system as a relying party.")
def main() -> None:
    pass


@main.command(help="Run the production server (gunicorn) on HOST:PORT.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8002, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), help="worker processes (default RP_WORKERS)")
@_reported
def serve(host: str, port: int, workers: int | None) -> None:
    from training_rp.migrations.runner import is_current
    from training_rp.serve import run

    settings = _settings()
    db = Database(settings.database_url)
    try:
        current = is_current(settings.database_url, db.engine)
    except Exception as exc:  # noqa: BLE001 - any failure to read the schema version is reported the same way
        raise ConfigError(f"cannot read the database schema version ({exc.__class__.__name__})") from exc
    finally:
        db.engine.dispose()
    if not current:
        raise ConfigError("the database is not at the newest schema: run `training-rp db upgrade` first")
    run(host, port, workers or settings.workers)


@main.group(help="Database schema (this app's own Alembic chain).")
def db() -> None:
    pass


@db.command("upgrade", help="Apply every pending migration.")
@_reported
def db_upgrade() -> None:
    from training_rp.migrations.runner import upgrade

    upgrade(_settings().database_url)
    click.echo("database upgraded")


@db.command("downgrade", help="Revert migrations down to TARGET (default: base, which drops every table).")
@click.argument("target", default="base")
@click.confirmation_option(prompt="This removes data. Continue?")
@_reported
def db_downgrade(target: str) -> None:
    from training_rp.migrations.runner import downgrade

    downgrade(_settings().database_url, target)
    click.echo(f"database downgraded to {target}")


@main.group(help="Ministry administrators (引智司).")
def admin() -> None:
    pass


@admin.command(
    "add", help="Record a ministry administrator by ID number; they enter after real-name sign-in."
)
@click.option("--name", required=True, help="姓名")
@click.option(
    "--id-number",
    prompt="身份证号",
    hide_input=True,
    help="18-character resident ID number (prompted when omitted)",
)
@_reported
def admin_add(name: str, id_number: str) -> None:
    account = _accounts().add_ministry_admin(name, id_number)
    click.echo(f"added ministry administrator {account.id}: {account.name} {account.id_number_masked}")


@main.group(help="Accounts of the training system.")
def accounts() -> None:
    pass


@accounts.command("list", help="List accounts; ID numbers are masked.")
@click.option("--role", type=click.Choice(["ministry_admin", "department_user", "organizing_unit"]))
@_reported
def accounts_list(role: str | None) -> None:
    from training_rp.models import Role

    rows = _accounts().list_all(Role(role) if role else None)
    for a in rows:
        state = "active" if a.active else "inactive"
        bound = "bound" if a.bound else "unbound"
        click.echo(
            "\t".join(
                [
                    str(a.id),
                    a.role.value,
                    a.name,
                    a.unit_label,
                    a.username or "-",
                    a.id_number_masked,
                    state,
                    bound,
                ]
            )
        )
    click.echo(f"{len(rows)} account(s)", err=True)


@main.group(help="Sessions and sign-in states.")
def sessions() -> None:
    pass


@sessions.command("purge", help="Remove expired sessions, sign-in states and seen logout tokens.")
@_reported
def sessions_purge() -> None:
    from training_rp.oidc.state import LoginStateCache
    from training_rp.services.sessions import SessionStore

    s = _settings()
    database = Database(s.database_url)
    ended = SessionStore(database, s.session_idle, s.session_lifetime, s.login_timeout).purge_expired()
    states = LoginStateCache(database).purge_expired()
    click.echo(f"removed {ended} session(s) and {states} sign-in state(s)")


@main.group(help="Personal data encryption.")
def data() -> None:
    pass


@data.command("rekey", help="Re-encrypt and re-index ID numbers under RP_DATA_KEY (after a key rotation).")
@_reported
def data_rekey() -> None:
    changed = _accounts().rekey()
    click.echo(f"re-encrypted {changed} ID number(s)")


def _accounts() -> AccountService:
    s = _settings()
    return AccountService(Database(s.database_url), IdNumberCipher(s.all_data_keys(), s.data_key_id))
