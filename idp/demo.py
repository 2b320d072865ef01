"""Demo data for the embedded single-machine mode: the training system's client and a demo person.

Idempotent: seeding twice changes nothing. Every value here is for a local demo only; production
mode refuses to seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from idp.accounts.services import AccountService
from idp.config import Settings
from idp.db import Database
from idp.errors import Conflict, PermissionDenied
from idp.oidc.clients import ClientService, ClientSpec
from idp.store import EphemeralStore

TRAINING_ENTRIES = (("项目管理", "/projects"), ("对接洽谈", "/matchmaking"), ("学员考试", "/exams"))
TRAINING_CATALOGUE: dict[str, object] = {
    "matter": "因公出国(境)培训",
    "department": "引进国外智力管理司",
    "code": "11100000000013127Y4000117056001",
}


@dataclass(frozen=True)
class DemoSettings:
    rp_base_url: str = "http://127.0.0.1:8002"
    rp_client_secret: str = "dev-training-secret"  # noqa: S105 - demo only; production refuses to seed
    username: str = "demo"
    password: str = "Training2026go"  # noqa: S105 - demo only
    reviewer: str = "reviewer"
    reviewer_password: str = "Check2026pass"  # noqa: S105 - demo only


def seed(db: Database, store: EphemeralStore, settings: Settings, demo: DemoSettings) -> list[str]:
    """Create what is missing; returns one line per thing created."""
    if settings.production:
        raise PermissionDenied("the demo seed is refused in production")
    created: list[str] = []
    clients = ClientService(db, settings)
    if clients.get("training") is None:
        base = demo.rp_base_url.rstrip("/")
        entries = [{"name": name, "url": base + path} for name, path in TRAINING_ENTRIES]
        catalogue = dict(TRAINING_CATALOGUE, entries=entries)
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
                catalogue=json.dumps(catalogue, ensure_ascii=False),
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
    return created
