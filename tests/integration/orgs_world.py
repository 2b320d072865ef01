"""The world of the legal-person tests: matters, one active unit holding one of them, people.

Fixtures that build it are in :mod:`tests.integration.orgs_fixtures`; this module holds the data
and helpers the tests import.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from idp.accounts.models import User
from idp.accounts.passwords import Argon2Params
from idp.accounts.services import AccountService
from idp.config import Settings
from idp.db import Database
from idp.oidc.clients import ClientService, ClientSpec
from idp.orgs.actors import CONSOLE_ACTOR, Actor
from idp.orgs.creditcode import generate_credit_code
from idp.orgs.delegation import DelegationService
from idp.orgs.models import Unit
from idp.orgs.permissions import PermissionService
from idp.orgs.services import UnitInput, UnitService
from idp.store import EphemeralStore
from tests.integration.oidc.conftest import csrf_of

FAST = Argon2Params(time_cost=1, memory_cost=8 * 1024, parallelism=1)
PASSWORD = "Tianjin-Harbour-77"
UNIT_PASSWORD = "Unit-Admin-Seal-2026"
TRAINING = "training"
OTHER_MATTER = "funding"
CODE_RNG_SEED = 20261205


def credit_codes(count: int, seed: int = CODE_RNG_SEED) -> list[str]:
    rng = random.Random(seed)
    return [generate_credit_code(rng) for _ in range(count)]


@dataclass
class World:
    settings: Settings
    db: Database
    store: EphemeralStore
    accounts: AccountService
    units: UnitService
    permissions: PermissionService
    delegation: DelegationService
    unit: Unit
    admin: User
    people: dict[str, User]

    def actor(self, user: User) -> Actor:
        return Actor(user_id=user.id, ip="198.51.100.9", request_id="orgs-test")

    @property
    def admin_actor(self) -> Actor:
        return self.actor(self.admin)

    def person(self, login: str, name: str = "", **kwargs: Any) -> User:
        user = self.accounts.create_user(login, PASSWORD, name=name or None, **kwargs)
        self.people[login] = user
        return user

    def add_unit(self, code: str, name: str, login: str) -> tuple[Unit, User]:
        unit = self.units.add(UnitInput(credit_code=code, name=name), login, UNIT_PASSWORD, CONSOLE_ACTOR)
        admin = self.accounts.find_by_username(login)
        assert admin is not None
        return unit, admin

    def approve_matter(self, admin: User, client_id: str = TRAINING) -> int:
        view = self.permissions.apply(self.actor(admin), client_id, "用于组团出访培训")
        self.permissions.approve(CONSOLE_ACTOR, view.id)
        return view.id


def add_matters(db: Database, settings: Settings) -> None:
    clients = ClientService(db, settings)
    catalogue = {
        "matter": "因公出国(境)培训",
        "department": "引进国外智力管理司",
        "code": "111000000000131",
        "entries": [{"name": "项目管理", "url": "https://training.example/projects"}],
    }
    clients.add(
        ClientSpec(
            client_id=TRAINING,
            name="因公出国(境)培训项目管理系统",
            secret="training-secret-0123456789",
            redirect_uris=["https://training.example/callback"],
            first_party=True,
            catalogue=json.dumps(catalogue, ensure_ascii=False),
        )
    )
    clients.add(
        ClientSpec(
            client_id=OTHER_MATTER,
            name="国家科技经费预算申报管理",
            secret="funding-secret-0123456789",
            redirect_uris=["https://funding.example/callback"],
            first_party=True,
        )
    )
    # A third-party client with no catalogue entry: not a matter a unit may apply for.
    clients.add(ClientSpec(client_id="thirdparty", redirect_uris=["https://third.example/cb"]))


def build_world(db: Database, store: EphemeralStore, settings: Settings) -> World:
    add_matters(db, settings)
    accounts = AccountService(db, store, settings, password_params=FAST)
    units = UnitService(db, password_params=FAST)
    code = credit_codes(1)[0]
    unit = units.add(
        UnitInput(
            credit_code=code, name="北京示例国际交流中心", unit_type="institution", contact_name="王老师"
        ),
        "bjexchange",
        UNIT_PASSWORD,
        CONSOLE_ACTOR,
    )
    admin = accounts.find_by_username("bjexchange")
    assert admin is not None
    world = World(
        settings=settings,
        db=db,
        store=store,
        accounts=accounts,
        units=units,
        permissions=PermissionService(db),
        delegation=DelegationService(db),
        unit=unit,
        admin=admin,
        people={},
    )
    world.approve_matter(admin)
    return world


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def page_csrf(client: FlaskClient, path: str) -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def sign_in(client: FlaskClient, username: str, password: str, account_type: str) -> TestResponse:
    token = page_csrf(client, f"/login?type={account_type}")
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password, "account_type": account_type},
    )


def post_form(client: FlaskClient, page: str, action: str, **fields: str) -> TestResponse:
    """Submit a form of ``page`` to ``action`` with the page's CSRF token."""
    return client.post(action, data={"csrf_token": page_csrf(client, page), **fields})
