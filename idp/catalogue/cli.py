"""Operator commands: ``idp notice add|list|remove`` and ``idp catalogue list|set|check``.

Exit codes follow :mod:`idp.cli`: 2 bad input, 3 not found, 69 database unreachable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from idp.catalogue.models import NoticeKind
from idp.config import load_settings
from idp.db import Database

F = TypeVar("F", bound=Callable[..., Any])
KINDS = [kind.value for kind in NoticeKind]


def _friendly(func: F) -> F:
    """:func:`idp.cli.friendly`, looked up when the command runs (idp.cli imports this module)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from idp.cli import friendly

        return friendly(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _db() -> Database:
    return Database(load_settings().database_url)


# ---- notices -----------------------------------------------------------------------------
@click.group()
def notice() -> None:
    """通知通告 and 结果公示 on the platform's pages."""


@notice.command("add")
@click.option("--title", required=True, help="Plain text, at most 200 characters.")
@click.option("--body", default="", help="Plain text; line breaks are kept.")
@click.option("--date", "published_on", default=None, help="YYYY-MM-DD; default: today (Beijing).")
@click.option(
    "--kind", type=click.Choice(KINDS), default="notice", show_default=True, help="result: 结果公示."
)
@_friendly
def notice_add(title: str, body: str, published_on: str | None, kind: str) -> None:
    """Publish a notice."""
    from idp.catalogue.notices import NoticeService, parse_notice_date

    day = parse_notice_date(published_on) if published_on is not None else None
    added = NoticeService(_db()).add(title, body, day, NoticeKind(kind), actor="cli")
    click.echo(f"notice {added.id} added ({added.kind}, {added.published_on.isoformat()})")


@notice.command("list")
@click.option("--kind", type=click.Choice(KINDS), default=None)
@click.option("--json", "as_json", is_flag=True)
@_friendly
def notice_list(kind: str | None, as_json: bool) -> None:
    """List notices, newest first."""
    from idp.catalogue.notices import NoticeService

    rows = NoticeService(_db()).all(NoticeKind(kind) if kind else None)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"id": n.id, "kind": n.kind, "date": n.published_on.isoformat(), "title": n.title}
                    for n in rows
                ],
                ensure_ascii=False,
            )
        )
        return
    for n in rows:
        click.echo(f"{n.id}\t{n.kind}\t{n.published_on.isoformat()}\t{n.title}")


@notice.command("remove")
@click.argument("notice_id", type=click.IntRange(min=1))
@_friendly
def notice_remove(notice_id: int) -> None:
    """Remove notice NOTICE_ID."""
    from idp.catalogue.notices import NoticeService

    removed = NoticeService(_db()).remove(notice_id, actor="cli")
    click.echo(f"notice {removed.id} removed")


# ---- matters -----------------------------------------------------------------------------
@click.group()
def catalogue() -> None:
    """The service catalogue (在线办事): matters carried by clients."""


@catalogue.command("list")
@click.option("--json", "as_json", is_flag=True)
@_friendly
def catalogue_list(as_json: bool) -> None:
    """List matters in catalogue order."""
    from idp.catalogue.services import CatalogueService

    matters = CatalogueService(_db()).matters()
    if as_json:
        click.echo(
            json.dumps(
                [{"client_id": m.client_id, **json.loads(m.data.to_json())} for m in matters],
                ensure_ascii=False,
            )
        )
        return
    for m in matters:
        hot = " hot" if m.data.hot else ""
        click.echo(f"{m.client_id}\t{m.name}\t{m.department}\t{m.code}\t{len(m.entries)} entries{hot}")


@catalogue.command("set")
@click.argument("client_id")
@click.option("--catalogue", "document", default=None, help="Catalogue entry as JSON.")
@click.option("--clear", is_flag=True, help="Take the client out of the catalogue.")
@_friendly
def catalogue_set(client_id: str, document: str | None, clear: bool) -> None:
    """Replace (or with --clear remove) the catalogue entry of registered client CLIENT_ID."""
    from idp.catalogue.services import CatalogueService
    from idp.errors import InvalidInput

    if clear == (document is not None):
        raise InvalidInput("give exactly one of --catalogue JSON or --clear")
    CatalogueService(_db()).set_document(client_id, None if clear else document, actor="cli")
    click.echo(f"client {client_id}: catalogue entry {'removed' if clear else 'saved'}")


@catalogue.command("check")
@click.argument("document")
@_friendly
def catalogue_check(document: str) -> None:
    """Validate a catalogue document (JSON) and print it normalised; registers nothing."""
    from idp.catalogue.schema import validate_catalogue

    click.echo(validate_catalogue(document))
