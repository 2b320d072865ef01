"""Finding a person to delegate to: exact matches only, masked answers, a uniform "not found"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event

from idp.accounts.models import User
from idp.audit.services import details_of, events
from idp.errors import InvalidInput, PermissionDenied
from idp.orgs import search as search_module
from idp.orgs.actors import Actor
from idp.orgs.search import PersonSearch, SearchThrottled, mask_login, mask_name
from idp.orgs.services import UnitInput
from idp.realname.identity import IdentityCodec
from idp.realname.models import PersonProfile
from national_source.register import DEMO_PEOPLE
from tests.integration.orgs_world import TRAINING, UNIT_PASSWORD, World, credit_codes

pytest_plugins = ("tests.integration.orgs_fixtures",)

ZHANG, LI, WANG = DEMO_PEOPLE[:3]


@pytest.fixture()
def search(world: World) -> PersonSearch:
    return PersonSearch(world.db, world.store, IdentityCodec(world.settings))


def with_id_number(world: World, user: User, number: str) -> None:
    envelope, index = IdentityCodec(world.settings).seal_number(number)
    with world.db.transaction() as session:
        session.add(
            PersonProfile(
                user_id=user.id, document_type="resident_id", id_number_enc=envelope, id_number_index=index
            )
        )


@pytest.fixture()
def zhang(world: World) -> User:
    user = world.person("zhangwei85", ZHANG.name)
    with_id_number(world, user, ZHANG.id_number)
    return user


def test_an_exact_login_name_finds_the_person_masked(world: World, search: PersonSearch, zhang: User) -> None:
    [found] = search.find(world.admin_actor, "zhangwei85")

    assert found.user_id == zhang.id
    assert (found.login_masked, found.name_masked) == ("zh*******5", "张*")
    assert found.id_number_masked == ZHANG.id_number[:4] + "*" * 10 + ZHANG.id_number[-4:]
    assert found.realname_status == "unverified"
    shown = repr(found)
    assert ZHANG.id_number not in shown and ZHANG.name not in shown and "zhangwei85" not in shown


def test_an_exact_id_number_finds_the_person_through_the_blind_index(
    world: World, search: PersonSearch, zhang: User
) -> None:
    for typed in (ZHANG.id_number, f"  {ZHANG.id_number}  ", ZHANG.id_number.translate(FULL_WIDTH)):
        assert [m.user_id for m in search.find(world.admin_actor, typed)] == [zhang.id]
    li = world.person("lina1990", LI.name)
    with_id_number(world, li, LI.id_number)  # ends in X
    assert [m.user_id for m in search.find(world.admin_actor, LI.id_number.lower())] == [li.id]


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.mark.parametrize(
    "query",
    [
        "zhangwei8",  # a prefix
        "hangwei85",  # a suffix
        "zhangwei8%",
        "zhang%",
        "%",
        "*",
        "_",
        "zhangwei_5",
        "zhangwei.*",
        "zhangwei85 OR 1=1",
        "zhangwei85' OR '1'='1",
        "zhang wei85",
        "ｚｈａｎｇｗｅｉ８５",  # full-width look-alike of a login name
        "zhangwei85\u017f",  # a letter that casefolds to ASCII
        ZHANG.id_number[:10],
        ZHANG.id_number[:-1],
        ZHANG.id_number[:-1] + ("0" if ZHANG.id_number[-1] != "0" else "1"),
        ZHANG.name,
        "张*",
    ],
)
def test_partial_wildcard_and_fuzzy_queries_find_nobody(
    world: World, search: PersonSearch, zhang: User, query: str
) -> None:
    assert search.find(world.admin_actor, query) == []


def test_legal_disabled_and_unknown_accounts_look_the_same(world: World, search: PersonSearch) -> None:
    hidden = world.person("hiddenone")
    with world.db.transaction() as session:
        row = session.get(User, hidden.id)
        assert row is not None
        row.disabled = True
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The embedded store's own housekeeping (its counter table) does not depend on the query.
        if "ephemeral_entries" not in statement:
            statements.append(statement)

    answers = {}
    event.listen(world.db.engine, "before_cursor_execute", remember)
    try:
        for query in ("bjexchange", "hiddenone", "nobody_here", world.unit.credit_code):
            statements.clear()
            answers[query] = (search.find(world.admin_actor, query), list(statements))
    finally:
        event.remove(world.db.engine, "before_cursor_execute", remember)

    results = {query: found for query, (found, _) in answers.items()}
    assert results == dict.fromkeys(answers, [])
    work = {query: sql for query, (_, sql) in answers.items()}
    reference = work["nobody_here"]
    assert reference and all(sql == reference for sql in work.values()), "same statements for every miss"


def test_search_is_for_unit_admins_and_managers_only(world: World, search: PersonSearch, zhang: User) -> None:
    li = world.person("lina1990")
    wang = world.person("wangfang78")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, li.id, "matter_handler")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, wang.id, "matter_manager")
    pending_code = credit_codes(2)[1]
    world.units.register(UnitInput(pending_code, "待审单位"), "pendingunit", UNIT_PASSWORD, Actor(None))
    pending_admin = world.accounts.find_by_username("pendingunit")
    assert pending_admin is not None

    for outsider in (world.actor(zhang), world.actor(li), world.actor(pending_admin), Actor(None)):
        with pytest.raises(PermissionDenied):
            search.find(outsider, "zhangwei85")
    assert [m.user_id for m in search.find(world.actor(wang), "zhangwei85")] == [zhang.id]


def test_searches_are_audited_without_the_query(world: World, search: PersonSearch, zhang: User) -> None:
    search.find(world.admin_actor, ZHANG.id_number)
    search.find(world.admin_actor, "nobody_here")
    with world.db.transaction() as session:
        rows = events(session, event="org.person_search")
        assert sorted(details_of(r)["found"] for r in rows) == [0, 1]
        for row in rows:
            assert row.actor == world.admin.id
            assert ZHANG.id_number not in row.details and "nobody_here" not in row.details


def test_each_searcher_has_an_hourly_allowance(
    world: World, search: PersonSearch, zhang: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "SEARCHES_PER_HOUR", 3)
    for _ in range(3):
        search.find(world.admin_actor, "nobody_here")
    with pytest.raises(SearchThrottled) as refused:
        search.find(world.admin_actor, "zhangwei85")
    assert refused.value.status_code == 429
    manager = world.person("wangfang78")
    world.delegation.grant(world.admin_actor, world.unit.id, TRAINING, manager.id, "matter_manager")
    assert search.find(world.actor(manager), "zhangwei85"), "another searcher has their own allowance"


@pytest.mark.parametrize(
    "query", ["", "   ", "x" * 65, "\x00", "zhang\nwei", "\u202ezhang", "\ud800", "zhangwei85\u200b"]
)
def test_hostile_queries_are_refused_plainly(world: World, search: PersonSearch, query: str) -> None:
    with pytest.raises(InvalidInput):
        search.find(world.admin_actor, query)


# --- masking -------------------------------------------------------------------------------------


def test_masks_of_login_names_and_names() -> None:
    assert mask_login("zhangsan") == "zh*****n"
    assert mask_login("abcd") == "ab*d"
    assert mask_login("abc") == "a**"
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("") == "" and mask_name(None) == ""


@given(st.from_regex(r"[A-Za-z0-9_]{4,32}", fullmatch=True))
def test_a_masked_login_name_keeps_its_length_and_hides_most_of_it(login: str) -> None:
    masked = mask_login(login)
    assert len(masked) == len(login)
    assert masked.count("*") >= len(login) - 3
    assert masked[:2] == login[:2] and masked[-1] == login[-1]


def _names() -> Iterator[str]:
    yield from ("李", "王芳", "司马相如")


def test_a_masked_name_shows_only_the_surname() -> None:
    for name in _names():
        masked = mask_name(name)
        assert masked[0] == name[0] and set(masked[1:]) == {"*"}
