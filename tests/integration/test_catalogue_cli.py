"""``idp notice``, ``idp catalogue``, ``idp client add --catalogue``, the demo seed: output, exit codes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from idp.audit.services import details_of, events
from idp.catalogue.models import Notice
from idp.catalogue.services import CatalogueService
from idp.cli import main
from idp.db import Database
from idp.oidc.models import OAuthClient
from tests.support.services import redis_url

VALID = {
    "matter": "因公出国(境)培训",
    "department": "引进国外智力管理司",
    "code": "11100000000013127Y4000117056001",
    "entries": [{"name": "项目管理", "url": "https://train.example.cn/projects"}],
}


@pytest.fixture()
def idp(database: Database, database_url: str, backend_name: str) -> Any:
    """Runs ``idp ARGS`` against this test's database; returns click's result."""
    env = {
        "IDP_ENV": "development",
        "IDP_DATABASE_URL": database_url,
        "IDP_REDIS_URL": redis_url() if backend_name == "postgres" else "",
        "IDP_REDIS_PREFIX": f"t{uuid.uuid4().hex[:12]}:",
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def notices(database: Database) -> list[Notice]:
    with database.transaction() as session:
        return list(session.scalars(select(Notice).order_by(Notice.id)))


def test_notice_add_list_remove(idp: Any, database: Database) -> None:
    added = idp(
        "notice", "add", "--title", "平台试运行公告", "--body", "第一行\n第二行", "--date", "2026-11-10"
    )
    assert added.exit_code == 0, added.output
    notice_id = notices(database)[0].id
    assert added.output.strip() == f"notice {notice_id} added (notice, 2026-11-10)"
    result = idp("notice", "add", "--title", "评审结果", "--kind", "result")
    assert result.exit_code == 0 and "(result, " in result.output

    listed = idp("notice", "list")
    assert listed.exit_code == 0
    assert f"{notice_id}\tnotice\t2026-11-10\t平台试运行公告" in listed.output
    as_json = json.loads(idp("notice", "list", "--kind", "notice", "--json").output)
    assert as_json == [{"id": notice_id, "kind": "notice", "date": "2026-11-10", "title": "平台试运行公告"}]

    removed = idp("notice", "remove", str(notice_id))
    assert removed.exit_code == 0 and removed.output.strip() == f"notice {notice_id} removed"
    assert [n.title for n in notices(database)] == ["评审结果"]
    again = idp("notice", "remove", str(notice_id))
    assert again.exit_code == 3 and f"no notice {notice_id}" in again.output

    with database.transaction() as session:
        added_events = events(session, event="notice_added")
        removed_events = events(session, event="notice_removed")
        assert len(added_events) == 2 and len(removed_events) == 1
        assert removed_events[0].actor == "cli" and removed_events[0].target == f"notice:{notice_id}"
        assert details_of(removed_events[0])["title"] == "平台试运行公告"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--title", "x", "--date", "2026/11/10"], 2, "YYYY-MM-DD"),
        (["--title", "x", "--date", "2026-02-30"], 2, "YYYY-MM-DD"),
        (["--title", "x", "--date", "1900-01-01"], 2, "must lie between"),
        (["--title", "x", "--date", "9999-12-31"], 2, "must lie between"),
        (["--title", "x", "--date", ""], 2, "YYYY-MM-DD"),
        (["--title", "   "], 2, "title is required"),
        (["--title", "通知\x00"], 2, "control character"),
        (["--title", "通知\n第二行"], 2, "control character"),
        (["--title", "长" * 201], 2, "longer than 200"),
        (["--title", "x", "--body", "长" * 20_001], 2, "longer than 20000"),
        (["--title", "x", "--body", "\x1b[2J"], 2, "control character"),
        (["--title", "x", "--kind", "banner"], 2, "Invalid value for '--kind'"),
        (["--body", "no title"], 2, "Missing option '--title'"),
    ],
)
def test_notice_add_refuses_bad_input(
    idp: Any, database: Database, args: list[str], code: int, message: str
) -> None:
    result = idp("notice", "add", *args)
    assert result.exit_code == code
    assert message in result.output
    assert notices(database) == []


@pytest.mark.parametrize(("value", "code"), [("abc", 2), ("0", 2), ("-5", 2), ("99999999999999", 3)])
def test_notice_remove_refuses_bad_ids(idp: Any, value: str, code: int) -> None:
    assert idp("notice", "remove", value).exit_code == code


def test_client_add_validates_and_normalises_the_catalogue(idp: Any, database: Database) -> None:
    base = ["client", "add", "--client-id", "training", "--redirect-uri", "https://train.example.cn/cb"]
    hostile = dict(VALID, entries=[{"name": "项目管理", "url": "javascript:alert(1)"}])
    refused = idp(*base, "--catalogue", json.dumps(hostile))
    assert refused.exit_code == 2
    assert "catalogue: entries[1].url must start with http:// or https://" in refused.output
    assert idp(*base, "--catalogue", "{not json").exit_code == 2
    assert idp(*base, "--catalogue", "").exit_code == 2
    with database.transaction() as session:
        assert session.get(OAuthClient, "training") is None

    spaced = dict(VALID, matter="  因公出国(境)培训  ")
    assert idp(*base, "--catalogue", json.dumps(spaced)).exit_code == 0
    with database.transaction() as session:
        client = session.get(OAuthClient, "training")
        assert client is not None and client.catalogue_json is not None
        stored = json.loads(client.catalogue_json)
    assert stored["matter"] == "因公出国(境)培训" and stored["hot"] is False and stored["order"] == 1000


def test_catalogue_list_set_clear_and_check(idp: Any, database: Database) -> None:
    assert (
        idp("client", "add", "--client-id", "training", "--redirect-uri", "https://t.example.cn/cb").exit_code
        == 0
    )
    assert idp("catalogue", "list").output == ""

    hot = json.dumps(dict(VALID, hot=True), ensure_ascii=False)
    saved = idp("catalogue", "set", "training", "--catalogue", hot)
    assert saved.exit_code == 0 and "catalogue entry saved" in saved.output
    listed = idp("catalogue", "list")
    assert listed.output.strip() == (
        "training\t因公出国(境)培训\t引进国外智力管理司\t11100000000013127Y4000117056001\t1 entries hot"
    )
    as_json = json.loads(idp("catalogue", "list", "--json").output)
    assert as_json[0]["client_id"] == "training" and as_json[0]["entries"] == VALID["entries"]

    bad = idp("catalogue", "set", "training", "--catalogue", json.dumps(dict(VALID, order=-1)))
    assert bad.exit_code == 2 and "order must be a whole number" in bad.output
    assert CatalogueService(database).get("training").data.hot is True, "a refused update changes nothing"
    assert idp("catalogue", "set", "nobody", "--catalogue", hot).exit_code == 3
    assert idp("catalogue", "set", "training").exit_code == 2
    assert idp("catalogue", "set", "training", "--clear", "--catalogue", hot).exit_code == 2

    cleared = idp("catalogue", "set", "training", "--clear")
    assert cleared.exit_code == 0 and idp("catalogue", "list").output == ""
    with database.transaction() as session:
        assert [e.event for e in events(session, target="client:training")] == [
            "catalogue_cleared",
            "catalogue_updated",
        ]

    checked = idp("catalogue", "check", json.dumps(VALID))
    assert checked.exit_code == 0 and json.loads(checked.output)["matter"] == "因公出国(境)培训"
    unchecked = idp("catalogue", "check", json.dumps(dict(VALID, tabs={"rules": "x"})))
    assert unchecked.exit_code == 2 and "tabs has unknown key 'rules'" in unchecked.output


def test_demo_seed_fills_the_catalogue_once(idp: Any, database: Database) -> None:
    first = idp("demo", "seed", "--rp-base-url", "http://127.0.0.1:8002")
    assert first.exit_code == 0, first.output
    assert "matter 外国专家项目管理信息系统 (外国专家服务司) -> client foreign-experts" in first.output
    assert "notice 2026-11-20 关于因公出国(境)培训项目管理系统迁移至政务服务平台的通知" in first.output

    matters = CatalogueService(database).matters()
    assert [m.department for m in matters] == [
        "引进国外智力管理司",
        "外国专家服务司",
        "战略规划司",
        "战略规划司",
        "办公厅",
        "资源配置与管理司",
    ]
    training = matters[0]
    assert [(e.name, e.url) for e in training.entries] == [
        ("项目管理", "http://127.0.0.1:8002/projects"),
        ("对接洽谈", "http://127.0.0.1:8002/matchmaking"),
        ("学员考试", "http://127.0.0.1:8002/exams"),
    ]
    assert set(training.data.tabs) == {"conditions", "process", "description", "documents"}
    assert [m.client_id for m in CatalogueService(database).hot()] == [
        "training",
        "foreign-experts",
        "crowd-plan",
    ]
    assert len(notices(database)) == 3

    second = idp("demo", "seed", "--rp-base-url", "http://127.0.0.1:8002")
    assert second.exit_code == 0 and second.output.strip() == "demo data already present"
    assert len(CatalogueService(database).matters()) == 6 and len(notices(database)) == 3


def test_an_unreachable_database_is_exit_code_69() -> None:
    env = {"IDP_ENV": "development", "IDP_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    for args in (["notice", "list"], ["notice", "add", "--title", "x"], ["catalogue", "list"]):
        result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
        assert result.exit_code == 69, (args, result.output)
        assert "Service temporarily unavailable" in result.output
