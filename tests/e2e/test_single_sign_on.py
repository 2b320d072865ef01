"""One sign-in, every subsystem (一次认证、全网通办); and a subsystem may still demand a fresh login.

A person signs in at the first training-system instance through the IdP's login form; the second
instance, a separate client with its own database, then lets them in without showing that form.
``prompt=login`` and ``max_age`` at the second instance force the form again all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import (
    PASSWORD,
    REAUTH,
    SSO,
    Navigations,
    Platform,
    fill_idp_login,
    sign_in_at,
)

pytestmark = pytest.mark.browser


def test_signed_in_at_one_subsystem_the_second_needs_no_login_form(
    platform: Platform, new_page: Callable[[], Any]
) -> None:
    page = new_page()
    seen = Navigations(page)
    sign_in_at(page, platform.rp1, SSO)
    assert page.inner_text("#role") == "引智司管理员"
    assert len(seen.login_forms_of(platform.idp)) == 1

    page.goto(platform.rp2.base_url + "/login?next=/projects")
    page.wait_for_url(platform.rp2.base_url + "/projects")
    assert page.locator("#logout").count() == 1
    assert SSO.name in page.inner_text("#who")
    assert len(seen.login_forms_of(platform.idp)) == 1, "the IdP's login form was not shown again"
    # Two subsystems, two sessions, each in its own database, bound to the same platform subject.
    assert platform.rp1.signed_in_sessions(SSO) == 1 and platform.rp2.signed_in_sessions(SSO) == 1
    assert platform.rp1.subject_of(SSO) == platform.rp2.subject_of(SSO) is not None
    assert SSO.id_number not in page.content()


@pytest.mark.parametrize("query", ["?prompt=login", "?max_age=0"], ids=["prompt-login", "max-age-0"])
def test_the_second_subsystem_can_force_the_login_form_despite_single_sign_on(
    platform: Platform, new_page: Callable[[], Any], query: str
) -> None:
    page = new_page()
    seen = Navigations(page)
    sign_in_at(page, platform.rp1, REAUTH)
    page.goto(platform.rp2.base_url + "/login")
    page.wait_for_url(platform.rp2.base_url + "/")
    assert len(seen.login_forms_of(platform.idp)) == 1

    page.goto(platform.rp2.base_url + "/login" + query)
    page.wait_for_url(platform.idp.issuer + "/login**")
    fill_idp_login(page, REAUTH.username, PASSWORD)
    page.wait_for_url(platform.rp2.base_url + "/")
    assert page.locator("#logout").count() == 1
    assert len(seen.login_forms_of(platform.idp)) == 2, "the IdP showed its login form again"
    # The first subsystem's session is untouched by the second one's re-authentication.
    page.goto(platform.rp1.base_url + "/")
    assert page.locator("#logout").count() == 1
