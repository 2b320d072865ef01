"""Demo data for the embedded single-machine mode: the training system's client, demo people, the catalogue.

Idempotent: seeding twice changes nothing. Every value here is for a local demo only; production
mode refuses to seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.accounts.services import AccountService
from idp.catalogue.demo import seed_catalogue, training_catalogue
from idp.config import Settings
from idp.db import Database
from idp.errors import Conflict, PermissionDenied
from idp.oidc.clients import ClientService, ClientSpec
from idp.store import EphemeralStore


@dataclass(frozen=True)
class DemoSettings:
    rp_base_url: str = "http://127.0.0.1:8002"
    rp_client_secret: str = "dev-training-secret"  # noqa: S105 - demo only; production refuses to seed
    username: str = "demo"
    password: str = "Training2026go"  # noqa: S105 - demo only
    reviewer: str = "reviewer"
    reviewer_password: str = "Check2026pass"  # noqa: S105 - demo only
    #: A demo unit (legal person) holding the training matter; its admin signs in on 法人登录.
    unit_credit_code: str = "91110108MA01C8XJ47"
    unit_name: str = "北京示例国际交流中心"
    unit_admin: str = "demounit"
    unit_admin_password: str = "Unit2026seal"  # noqa: S105 - demo only


def seed(db: Database, store: EphemeralStore, settings: Settings, demo: DemoSettings) -> list[str]:
    """Create what is missing; returns one line per thing created."""
    if settings.production:
        raise PermissionDenied("the demo seed is refused in production")
    created: list[str] = []
    clients = ClientService(db, settings)
    if clients.get("training") is None:
        base = demo.rp_base_url.rstrip("/")
        clients.add(
            ClientSpec(
                client_id="training",
                name="因公出国(境)培训项目管理系统",
                secret=demo.rp_client_secret,
                redirect_uris=[f"{base}/callback"],
                post_logout_redirect_uris=[f"{base}/"],
                backchannel_logout_uri=f"{base}/backchannel-logout",
                first_party=True,
                allow_idcard=True,
                catalogue=training_catalogue(base),
            )
        )
        created.append(f"client training (secret {demo.rp_client_secret}) -> {base}/callback")
    accounts = AccountService(db, store, settings)
    for username, password, name, roles in (
        (demo.username, demo.password, "演示用户", ()),
        (demo.reviewer, demo.reviewer_password, "审核员", ("reviewer",)),
    ):
        try:
            accounts.create_user(username, password, name=name, roles=roles, actor="demo-seed")
            created.append(f"user {username} / {password}")
        except Conflict:
            pass
    created += seed_catalogue(db, settings)
    created += _seed_unit(db, demo)
    return created


def _seed_unit(db: Database, demo: DemoSettings) -> list[str]:
    """A unit that holds the training matter, so the 法人登录 tab and acting-for can be tried."""
    from sqlalchemy import select

    from idp.orgs.actors import CONSOLE_ACTOR, Actor
    from idp.orgs.models import Unit
    from idp.orgs.permissions import PermissionService
    from idp.orgs.services import UnitInput, UnitService

    with db.transaction() as session:
        if session.scalar(select(Unit.id).where(Unit.credit_code == demo.unit_credit_code)) is not None:
            return []
    unit = UnitService(db).add(
        UnitInput(credit_code=demo.unit_credit_code, name=demo.unit_name, contact_name="王老师"),
        demo.unit_admin,
        demo.unit_admin_password,
        CONSOLE_ACTOR,
    )
    permissions = PermissionService(db)
    admin = Actor(user_id=unit.admin_user_id, ip=None, request_id="demo-seed")
    permissions.approve(CONSOLE_ACTOR, permissions.apply(admin, "training", "演示").id)
    login = f"法人登录 {demo.unit_admin} / {demo.unit_admin_password}"
    return [f"unit {demo.unit_name} ({demo.unit_credit_code}): {login}"]
