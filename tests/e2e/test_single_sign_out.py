"""Single sign-out: ending the platform session ends the person's session at every subsystem.

Both training-system instances receive a back-channel logout token from the IdP, verify it (their
logs say so) and delete the session it names; the next page load at each asks for a login again.
This holds whether the person logs out on the platform itself or with a subsystem's 退出登录
button (RP-initiated logout), and a subsystem that is down at that moment neither holds up the
logout page nor keeps the other subsystem from hearing about it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import (
    PASSWORD,
    RP1_REFRESH_AFTER,
    SLO_DOWN,
    SLO_PLATFORM,
    SLO_REAUTH,
    SLO_RP,
    Platform,
    RelyingParty,
    assert_logged_out_by_the_back_channel,
    backchannel_logouts,
    fill_idp_login,
    is_signed_in_at,
    log_out_on_the_platform,
    sign_in_at,
    signed_in_everywhere,
    wait_until,
)

pytestmark = pytest.mark.browser

#: The logout page must not wait for the subsystems; their notification runs in the background.
LOGOUT_PAGE_BUDGET = 3.0


def test_logging_out_on_the_platform_ends_both_subsystem_sessions(
    platform: Platform, new_page: Callable[[], Any]
) -> None:
    page = new_page()
    signed_in_everywhere(platform, page, SLO_PLATFORM)
    before = {rp.label: len(backchannel_logouts(rp)) for rp in platform.rps}

    log_out_on_the_platform(platform, page)

    for rp in platform.rps:
        assert_logged_out_by_the_back_channel(rp, SLO_PLATFORM, before[rp.label])
        assert backchannel_logouts(rp)[-1] == 1, f"{rp.label} ended exactly the person's session"
        assert not is_signed_in_at(page, rp)
        # The next sign-in really needs the login form: the platform session is gone too.
        page.goto(rp.base_url + "/login")
        page.wait_for_url(platform.idp.issuer + "/login**")


def test_the_subsystem_logout_button_ends_the_other_subsystem_session_too(
    platform: Platform, new_page: Callable[[], Any]
) -> None:
    page = new_page()
    signed_in_everywhere(platform, page, SLO_RP)
    before = len(backchannel_logouts(platform.rp2))

    page.goto(platform.rp1.base_url + "/")
    page.locator("#logout").click()
    # RP-initiated logout: through the IdP's end-session endpoint and back to the subsystem.
    page.wait_for_url(platform.rp1.base_url + "/**")
    assert page.locator("#login").count() == 1
    assert platform.rp1.signed_in_sessions(SLO_RP) == 0

    assert_logged_out_by_the_back_channel(platform.rp2, SLO_RP, before)
    assert not is_signed_in_at(page, platform.rp2)
    page.goto(platform.rp2.base_url + "/login")
    page.wait_for_url(platform.idp.issuer + "/login**")


def test_a_subsystem_down_at_logout_holds_up_neither_the_page_nor_the_other_subsystem(
    platform: Platform, new_page: Callable[[], Any]
) -> None:
    page = new_page()
    # RP 1 was signed in first, so the IdP notifies it first: its failure comes before RP 2's turn.
    signed_in_everywhere(platform, page, SLO_DOWN)
    before = len(backchannel_logouts(platform.rp2))
    platform.rp1.stop()
    try:
        took = log_out_on_the_platform(platform, page)
        assert took < LOGOUT_PAGE_BUDGET, f"the logout page waited {took:.1f}s for the subsystems"
        assert page.locator("form.nav-form").count() == 0, "the platform shows the person signed out"
        assert_logged_out_by_the_back_channel(platform.rp2, SLO_DOWN, before)
    finally:
        platform.rp1.start()
    # RP 1 never heard of it, so its session row is still there; but the IdP revoked the grant at
    # logout, so RP 1's next refresh (due after RP_REFRESH_AFTER) is refused and ends the session.
    assert platform.rp1.signed_in_sessions(SLO_DOWN) == 1
    time.sleep(RP1_REFRESH_AFTER + 0.5)
    page.goto(platform.rp1.base_url + "/")
    assert page.locator("section.notice").get_attribute("data-outcome") == "withdrawn"
    assert "统一身份认证平台已不再认可本次登录" in page.inner_text("#message")
    assert platform.rp1.signed_in_sessions(SLO_DOWN) == 0
    assert page.locator("#logout").count() == 0


def notified(rp: RelyingParty, before: int) -> Callable[[], bool]:
    return lambda: len(backchannel_logouts(rp)) > before


def test_logout_after_re_authentication_at_one_subsystem_still_reaches_the_other(
    platform: Platform, new_page: Callable[[], Any]
) -> None:
    page = new_page()
    sign_in_at(page, platform.rp1, SLO_REAUTH)
    page.goto(platform.rp2.base_url + "/login?prompt=login")
    fill_idp_login(page, SLO_REAUTH.username, PASSWORD)
    page.wait_for_url(platform.rp2.base_url + "/")
    before = {rp.label: len(backchannel_logouts(rp)) for rp in platform.rps}

    log_out_on_the_platform(platform, page)

    for rp in platform.rps:
        wait_until(notified(rp, before[rp.label]), f"{rp.label} receives a logout token")
    wait_until(lambda: platform.rp2.signed_in_sessions(SLO_REAUTH) == 0, "rp2 ends the session")
    # RP 1's session was opened under the first sid: the logout token names only the second.
    wait_until(lambda: platform.rp1.signed_in_sessions(SLO_REAUTH) == 0, "rp1 ends the session", 8.0)
