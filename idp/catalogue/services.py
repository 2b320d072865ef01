"""The catalogue's rules: which matters exist, which are hot, who follows what, whose matters are whose.

Matters are read from the clients' catalogue documents; a document that no longer passes
:func:`idp.catalogue.schema.parse_catalogue` (edited by hand, written by an older release) is left
out and logged, never rendered.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from idp.accounts import N_
from idp.audit.services import record
from idp.catalogue.models import Follow
from idp.catalogue.schema import CatalogueInvalid, Entry, MatterData, parse_catalogue, validate_catalogue
from idp.db import Database
from idp.errors import NotFound
from idp.oidc.clients import CLIENT_ID_RE
from idp.oidc.models import Consent, OAuthClient, TokenFamily

log = logging.getLogger(__name__)

MATTER_NOT_FOUND = N_("该事项不存在或已下线。")
#: Matters shown under 热点服务 on the home page.
HOT_LIMIT = 8


@dataclass(frozen=True)
class Matter:
    """A matter of the catalogue: a client and its validated catalogue document."""

    client_id: str
    data: MatterData

    @property
    def name(self) -> str:
        return self.data.matter

    @property
    def department(self) -> str:
        return self.data.department

    @property
    def code(self) -> str:
        return self.data.code

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self.data.entries

    def sort_key(self) -> tuple[int, str, str]:
        return (self.data.order, self.data.matter, self.client_id)


class CatalogueService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def matters(self, department: str | None = None) -> list[Matter]:
        """Every valid matter (of one host department when given), in catalogue order."""
        found = sorted(self._load(), key=Matter.sort_key)
        if department:
            found = [m for m in found if m.department == department]
        return found

    def hot(self, limit: int = HOT_LIMIT) -> list[Matter]:
        """热点服务: the matters flagged hot, in catalogue order."""
        return [m for m in self.matters() if m.data.hot][:limit]

    def departments(self) -> list[str]:
        """Host departments that have at least one matter, each once, in catalogue order."""
        return list(dict.fromkeys(m.department for m in self.matters()))

    def get(self, client_id: str) -> Matter:
        """The matter of ``client_id``; :class:`NotFound` for anything else (also malformed ids)."""
        if not CLIENT_ID_RE.fullmatch(client_id):
            raise NotFound(MATTER_NOT_FOUND)
        found = self._load([client_id])
        if not found:
            raise NotFound(MATTER_NOT_FOUND)
        return found[0]

    def set_document(self, client_id: str, document: str | None, actor: str) -> None:
        """Replace a registered client's catalogue document (validated), or clear it with None."""
        normalised = validate_catalogue(document) if document is not None else None
        with self.db.transaction() as session:
            client = session.get(OAuthClient, client_id) if CLIENT_ID_RE.fullmatch(client_id) else None
            if client is None:
                raise NotFound(f"no client {client_id!r}")
            client.catalogue_json = normalised
            record(
                session,
                event="catalogue_updated" if normalised else "catalogue_cleared",
                actor=actor,
                ip=None,
                request_id=None,
                target=f"client:{client_id}",
            )

    def by_ids(self, client_ids: Iterable[str]) -> dict[str, Matter]:
        wanted = [c for c in set(client_ids) if CLIENT_ID_RE.fullmatch(c)]
        return {m.client_id: m for m in self._load(wanted)} if wanted else {}

    def _load(self, client_ids: list[str] | None = None) -> list[Matter]:
        query = select(OAuthClient.client_id, OAuthClient.catalogue_json).where(
            OAuthClient.catalogue_json.is_not(None)
        )
        if client_ids is not None:
            query = query.where(OAuthClient.client_id.in_(client_ids))
        with self.db.transaction() as session:
            rows = session.execute(query).all()
        matters = []
        for client_id, document in rows:
            if document is None:
                continue
            try:
                matters.append(Matter(client_id, parse_catalogue(document)))
            except CatalogueInvalid as exc:
                log.warning(
                    "catalogue document left out",
                    extra={"fields": {"client_id": client_id, "why": exc.public}},
                )
        return matters


class FollowService:
    """我的关注: following is idempotent, and only matters that exist can be followed."""

    def __init__(self, db: Database, catalogue: CatalogueService) -> None:
        self.db = db
        self.catalogue = catalogue

    def follow(self, user_id: str, client_id: str) -> Matter:
        matter = self.catalogue.get(client_id)
        try:
            with self.db.transaction() as session:
                if session.get(Follow, (user_id, matter.client_id)) is None:
                    session.add(Follow(user_id=user_id, client_id=matter.client_id))
        except IntegrityError:
            # The same person following twice at once: the other request's row is the follow.
            pass
        return matter

    def unfollow(self, user_id: str, client_id: str) -> None:
        if not CLIENT_ID_RE.fullmatch(client_id):
            raise NotFound(MATTER_NOT_FOUND)
        with self.db.transaction() as session:
            session.execute(delete(Follow).where(Follow.user_id == user_id, Follow.client_id == client_id))

    def followed_ids(self, user_id: str) -> set[str]:
        with self.db.transaction() as session:
            return set(session.scalars(select(Follow.client_id).where(Follow.user_id == user_id)))

    def follows_of(self, user_id: str) -> list[Matter]:
        """Followed matters, most recently followed first."""
        with self.db.transaction() as session:
            rows: list[tuple[str, datetime]] = [
                (r[0], r[1])
                for r in session.execute(
                    select(Follow.client_id, Follow.followed_at)
                    .where(Follow.user_id == user_id)
                    .order_by(Follow.followed_at.desc(), Follow.client_id)
                )
            ]
        matters = self.catalogue.by_ids(client_id for client_id, _ in rows)
        return [matters[client_id] for client_id, _ in rows if client_id in matters]


@dataclass(frozen=True)
class UnitGrant:
    """A unit's authorisation of the person for a matter, as 我的事项 shows it."""

    unit_name: str
    role_label: str


@dataclass(frozen=True)
class PersonMatter:
    matter: Matter
    #: The person signed in to the matter's system (a consent or tokens were issued).
    used: bool
    grants: tuple[UnitGrant, ...]


GrantsOfPerson = Callable[[Database, str], list[Any]]


def unit_grants_source() -> GrantsOfPerson | None:
    """``idp.orgs.grants.grants_of_person`` when the organisations domain is installed."""
    try:
        module = importlib.import_module("idp.orgs.grants")
    except ModuleNotFoundError as exc:
        if exc.name in ("idp.orgs", "idp.orgs.grants"):
            return None
        raise
    found = getattr(module, "grants_of_person", None)
    return found if callable(found) else None


class MyMattersService:
    """我的事项: matters the person has used, and matters units authorised them to handle."""

    def __init__(
        self, db: Database, catalogue: CatalogueService, grants_of_person: GrantsOfPerson | None = None
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.grants_of_person = grants_of_person

    def of_person(self, user_id: str) -> list[PersonMatter]:
        with self.db.transaction() as session:
            used = set(session.scalars(select(Consent.client_id).where(Consent.user_id == user_id)))
            used |= set(
                session.scalars(
                    select(TokenFamily.client_id).where(TokenFamily.user_id == user_id).distinct()
                )
            )
        grants: dict[str, list[UnitGrant]] = {}
        if self.grants_of_person is not None:
            for grant in self.grants_of_person(self.db, user_id):
                grants.setdefault(str(grant.client_id), []).append(
                    UnitGrant(unit_name=str(grant.unit_name), role_label=str(grant.role_label))
                )
        matters = self.catalogue.by_ids(used | set(grants))
        found = [
            PersonMatter(matter, matter.client_id in used, tuple(grants.get(matter.client_id, ())))
            for matter in matters.values()
        ]
        return sorted(found, key=lambda item: item.matter.sort_key())
