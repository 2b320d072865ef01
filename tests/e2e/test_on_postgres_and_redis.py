"""Single sign-on, token refresh and single sign-out with the IdP on PostgreSQL and Redis.

The same flows as on the embedded set-up, against the production storage: the SSO session and
codes in Redis, clients, refresh-token families and their revocation at logout in PostgreSQL.
Skipped locally without TEST_DATABASE_URL / TEST_REDIS_URL, a failure in CI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import (
    RP1_REFRESH_AFTER,
    SSO,
    Navigations,
    Platform,
    assert_logged_out_by_the_back_channel,
    backchannel_logouts,
    is_signed_in_at,
    log_out_on_the_platform,
    signed_in_everywhere,
)

pytestmark = [pytest.mark.browser, pytest.mark.services]


def test_sign_on_refresh_and_sign_out_across_two_subsystems(
    platform_on_services: Platform, new_page: Callable[[], Any]
) -> None:
    platform = platform_on_services
    page = new_page()
    seen = Navigations(page)
    signed_in_everywhere(platform, page, SSO)
    assert len(seen.login_forms_of(platform.idp)) == 1, "one login form for two subsystems"

    # RP 1's tokens get old and are refreshed at the IdP on the next page load.
    time.sleep(RP1_REFRESH_AFTER + 0.5)
    assert is_signed_in_at(page, platform.rp1)
    assert "refresh: outcome=refreshed" in platform.rp1.log_text()

    before = {rp.label: len(backchannel_logouts(rp)) for rp in platform.rps}
    log_out_on_the_platform(platform, page)
    for rp in platform.rps:
        assert_logged_out_by_the_back_channel(rp, SSO, before[rp.label])
        assert not is_signed_in_at(page, rp)
