"""Settings from RP_* variables: parsing, derived URLs, and refusal of unsafe production values."""

from __future__ import annotations

import base64
import os

import pytest

from training_rp.config import DEV_CLIENT_SECRET, load_settings
from training_rp.errors import ConfigError

STRONG_KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
PRODUCTION = {
    "RP_ENV": "production",
    "RP_ISSUER": "https://fuwu.example.gov.cn",
    "RP_BASE_URL": "https://training.example.gov.cn",
    "RP_CLIENT_SECRET": "a-real-secret-from-the-idp-registration",
    "RP_SECRET_KEY": "s" * 40,
    "RP_DATA_KEY": STRONG_KEY,
}


def test_defaults_run_the_embedded_demo() -> None:
    s = load_settings({})
    assert s.issuer == "http://127.0.0.1:8000"
    assert s.redirect_uri == "http://127.0.0.1:8002/callback"
    assert s.post_logout_redirect_uri == "http://127.0.0.1:8002/"
    assert s.backchannel_logout_uri == "http://127.0.0.1:8002/backchannel-logout"
    assert s.account_url == "http://127.0.0.1:8000/me"
    assert s.client_id == "training" and s.client_secret == DEV_CLIENT_SECRET
    assert s.database_url.startswith("sqlite:///")


def test_variables_are_read_and_typed() -> None:
    s = load_settings(
        {"RP_SESSION_IDLE": "60", "RP_HTTP_TIMEOUT": "2.5", "RP_IDP_ACCOUNT_URL": "http://x/me/"}
    )
    assert s.session_idle == 60 and s.http_timeout == 2.5
    assert s.account_url == "http://x/me/"


def test_a_complete_production_configuration_starts() -> None:
    assert load_settings(PRODUCTION).production


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("RP_CLIENT_SECRET", DEV_CLIENT_SECRET, "RP_CLIENT_SECRET"),
        ("RP_SECRET_KEY", "short", "RP_SECRET_KEY"),
        ("RP_DATA_KEY", base64.urlsafe_b64encode(b"\1" * 32).decode(), "RP_DATA_KEY"),
        ("RP_ISSUER", "http://fuwu.example.gov.cn", "RP_ISSUER"),
        ("RP_BASE_URL", "http://training.example.gov.cn", "RP_BASE_URL"),
    ],
)
def test_production_refuses_each_unsafe_value(name: str, value: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        load_settings({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    "environ",
    [
        {"RP_ENV": "staging"},
        {"RP_ISSUER": "ftp://idp"},
        {"RP_ISSUER": "http://idp/"},
        {"RP_BASE_URL": "http://rp?x=1"},
        {"RP_DATA_KEY": "not base64 !!"},
        {"RP_DATA_KEY": base64.urlsafe_b64encode(b"short").decode()},
        {"RP_OLD_DATA_KEYS": "nocolon"},
        {"RP_SESSION_IDLE": "ten"},
        {"RP_SESSION_IDLE": "0"},
        {"RP_CLOCK_SKEW": "-1"},
        {"RP_DEFAULT_LOCALE": "fr"},
        {"RP_DATA_KEY_ID": "a:b"},
    ],
)
def test_values_that_cannot_work_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(environ)


def test_old_data_keys_are_parsed_by_id() -> None:
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    keys = load_settings({"RP_DATA_KEY_ID": "k2", "RP_OLD_DATA_KEYS": f"k1:{other}"}).all_data_keys()
    assert list(keys) == ["k2", "k1"]


def test_unknown_overrides_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown"):
        load_settings({}, overrides={"no_such_setting": 1})
