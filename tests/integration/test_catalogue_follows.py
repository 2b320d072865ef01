"""我的关注: following and unfollowing a matter with a CSRF-protected POST, on both storage set-ups."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.catalogue.models import Follow
from idp.catalogue.services import CatalogueService, FollowService
from idp.oidc.clients import ClientService
from tests.integration.oidc import conftest as oidc
from tests.integration.oidc.conftest import csrf_of
from tests.integration.test_catalogue_pages import add_matter, add_other_matters, text_of

idp_app = oidc.idp_app
services = oidc.services
person = oidc.person
browser_client = oidc.browser_client
signed_in = oidc.signed_in


def follow_count(services: Any) -> int:
    with services.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Follow)) or 0)


def token_from(client: FlaskClient, path: str) -> str:
    return csrf_of(client.get(path).get_data(as_text=True))


def test_follow_and_unfollow_from_the_matter_page(signed_in: FlaskClient, services: Any) -> None:
    add_matter(services)
    page = signed_in.get("/services/training")
    assert 'action="/services/training/follow"' in page.get_data(as_text=True)

    followed = signed_in.post(
        "/services/training/follow", data={"csrf_token": csrf_of(page.get_data(as_text=True))}
    )
    assert followed.status_code == 303
    assert followed.headers["Location"] == "/services/training"
    assert follow_count(services) == 1
    again = signed_in.get("/services/training").get_data(as_text=True)
    assert 'action="/services/training/unfollow"' in again and "取消关注" in again

    mine = signed_in.get("/my/follows")
    assert mine.status_code == 200
    assert "因公出国(境)培训" in text_of(mine) and "引进国外智力管理司" in text_of(mine)

    gone = signed_in.post(
        "/services/training/unfollow",
        data={"csrf_token": csrf_of(again), "next": "/my/follows"},
    )
    assert gone.status_code == 303 and gone.headers["Location"] == "/my/follows"
    assert follow_count(services) == 0
    assert "您还没有关注任何事项" in text_of(signed_in.get("/my/follows"))


def test_following_twice_is_one_follow_and_unfollowing_nothing_is_fine(
    signed_in: FlaskClient, services: Any
) -> None:
    add_matter(services)
    token = token_from(signed_in, "/services/training")
    for _ in range(2):
        assert signed_in.post("/services/training/follow", data={"csrf_token": token}).status_code == 303
    assert follow_count(services) == 1
    for _ in range(2):
        assert signed_in.post("/services/training/unfollow", data={"csrf_token": token}).status_code == 303
    assert follow_count(services) == 0


def test_without_a_valid_csrf_token_nothing_changes(signed_in: FlaskClient, services: Any) -> None:
    add_matter(services)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "forged"}, {"csrf_token": "x" * 10_000}):
        response = signed_in.post("/services/training/follow", data=data)
        assert response.status_code == 400
        assert "页面已过期" in text_of(response)
    assert follow_count(services) == 0
    # A token from another browser does not count either.
    token = token_from(signed_in, "/services/training")
    signed_in.post("/services/training/follow", data={"csrf_token": token})
    other = signed_in.application.test_client()
    assert other.post("/services/training/unfollow", data={"csrf_token": token}).status_code == 400
    assert follow_count(services) == 1


def test_a_get_request_cannot_follow(signed_in: FlaskClient, services: Any) -> None:
    add_matter(services)
    assert signed_in.get("/services/training/follow").status_code == 405
    assert follow_count(services) == 0


def test_anonymous_visitors_are_sent_to_sign_in(browser_client: FlaskClient, services: Any) -> None:
    add_matter(services)
    page = browser_client.get("/services/training").get_data(as_text=True)
    assert 'href="/login?next=/services/training"' in page and "登录后关注" in page
    # Someone with a valid form token who is not signed in (signed out in another tab, say).
    token = token_from(browser_client, "/login")
    response = browser_client.post("/services/training/follow", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Fservices%2Ftraining"
    assert follow_count(services) == 0


def test_unknown_and_malformed_matters_cannot_be_followed(signed_in: FlaskClient, services: Any) -> None:
    add_matter(services)
    token = token_from(signed_in, "/services/training")
    for matter_id in ("nope", "%00", "a" * 500, "%E4%B8%AD"):
        response = signed_in.post(f"/services/{matter_id}/follow", data={"csrf_token": token})
        assert response.status_code == 404, matter_id
        unfollowed = signed_in.post(f"/services/{matter_id}/unfollow", data={"csrf_token": token})
        assert unfollowed.status_code in (303, 404), matter_id
    assert follow_count(services) == 0


def test_the_return_address_is_kept_on_this_site(signed_in: FlaskClient, services: Any) -> None:
    add_matter(services)
    token = token_from(signed_in, "/services/training")
    for hostile in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:x",
    ):
        response = signed_in.post("/services/training/follow", data={"csrf_token": token, "next": hostile})
        assert response.status_code == 303
        assert response.headers["Location"] == "/services/training", hostile


def test_the_full_list_offers_follow_buttons_that_come_back_to_the_list(
    signed_in: FlaskClient, services: Any
) -> None:
    add_matter(services)
    add_other_matters(services)
    listing = signed_in.get("/services").get_data(as_text=True)
    assert listing.count('class="follow-form"') == 3
    assert 'value="/services#matter-crowd-plan"' in listing
    response = signed_in.post(
        "/services/crowd-plan/follow",
        data={"csrf_token": csrf_of(listing), "next": "/services#matter-crowd-plan"},
    )
    assert response.headers["Location"] == "/services#matter-crowd-plan"
    assert "取消关注" in signed_in.get("/services").get_data(as_text=True)


def test_follows_are_listed_newest_first_and_go_with_their_client(services: Any, person: Any) -> None:
    add_matter(services)
    add_other_matters(services)
    follows = FollowService(services.db, CatalogueService(services.db))
    for client_id in ("training", "foreign-experts", "crowd-plan"):
        follows.follow(person.id, client_id)
    assert [m.client_id for m in follows.follows_of(person.id)] == [
        "crowd-plan",
        "foreign-experts",
        "training",
    ]

    # A client taken out of the catalogue is no longer listed; a removed client takes its follows along.
    CatalogueService(services.db).set_document("foreign-experts", None, actor="test")
    assert {m.client_id for m in follows.follows_of(person.id)} == {"training", "crowd-plan"}
    ClientService(services.db, services.settings).remove("crowd-plan")
    assert follows.followed_ids(person.id) == {"training", "foreign-experts"}
