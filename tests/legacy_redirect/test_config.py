"""Settings from LEGACY_* variables: defaults for the demo, clear refusals, https-only production."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from legacy_redirect.config import ConfigError, Settings, documented_settings, load_settings

README_SECTION = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_run_the_embedded_demo() -> None:
    s = load_settings({})
    assert (s.host, s.port) == ("127.0.0.1", 8001)
    assert s.login_url == "http://127.0.0.1:8002/login"
    assert s.public_url == "http://127.0.0.1:8001"
    assert s.platform_url == "http://127.0.0.1:8000"
    assert s.default_locale == "zh"
    assert not s.production


def test_variables_are_read_and_typed() -> None:
    s = load_settings(
        {
            "LEGACY_PORT": " 9001 ",
            "LEGACY_LOGIN_URL": "https://a.example/login?client=training",
            "LEGACY_KNOWN_REFERRERS": "a.example, b.example",
            "LEGACY_METRICS_ALLOW": "10.0.0.0/8",
        }
    )
    assert s.port == 9001
    assert s.login_url == "https://a.example/login?client=training"
    assert s.referrer_hosts == frozenset({"a.example", "b.example"})
    assert [str(n) for n in s.metrics_networks] == ["10.0.0.0/8"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEGACY_PORT": "eighty"}, "LEGACY_PORT must be an integer"),
        ({"LEGACY_PORT": "70000"}, "LEGACY_PORT must be between"),
        ({"LEGACY_WORKERS": "0"}, "LEGACY_WORKERS must be between"),
        ({"LEGACY_ENV": "staging"}, "LEGACY_ENV must be one of"),
        ({"LEGACY_DEFAULT_LOCALE": "fr"}, "LEGACY_DEFAULT_LOCALE must be one of"),
        ({"LEGACY_LOGIN_URL": "javascript:alert(1)"}, "LEGACY_LOGIN_URL must be an absolute http(s) URL"),
        ({"LEGACY_LOGIN_URL": "//evil.example/login"}, "LEGACY_LOGIN_URL must be an absolute http(s) URL"),
        ({"LEGACY_LOGIN_URL": "https://evil.example\\@good.example/"}, "backslashes"),
        ({"LEGACY_LOGIN_URL": "https://good.example/\r\nX: y"}, "control characters"),
        ({"LEGACY_LOGIN_URL": "https://user:pw@good.example/"}, "must not contain credentials"),
        ({"LEGACY_LOGIN_URL": "https://good.example/#frag"}, "must not contain a fragment"),
        ({"LEGACY_LOGIN_URL": "https://[::1/"}, "LEGACY_LOGIN_URL is not a valid URL"),
        ({"LEGACY_LOGIN_URL": "https://good.example:99999/"}, "LEGACY_LOGIN_URL is not a valid URL"),
        ({"LEGACY_PUBLIC_URL": "https://otm.example/"}, "LEGACY_PUBLIC_URL must be an origin"),
        ({"LEGACY_KNOWN_REFERRERS": "Evil Host"}, "is not a lower-case host name"),
        ({"LEGACY_BUSINESS_PHONE": "<script>"}, "may hold only digits"),
        ({"LEGACY_METRICS_ALLOW": "not-a-network"}, "LEGACY_METRICS_ALLOW"),
        ({"LEGACY_NOTICE_MAX_AGE": "-1"}, "LEGACY_NOTICE_MAX_AGE must not be negative"),
    ],
)
def test_unusable_values_are_refused_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(env)


def test_production_refuses_every_plain_http_target() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"LEGACY_ENV": "production"})
    text = str(refused.value)
    assert text.startswith("refusing to start in production")
    for name in ("LEGACY_PUBLIC_URL", "LEGACY_LOGIN_URL", "LEGACY_PLATFORM_URL"):
        assert f"{name} is not https" in text


def test_production_refuses_a_plain_http_instructions_url() -> None:
    env = {
        "LEGACY_ENV": "production",
        "LEGACY_PUBLIC_URL": "https://otm.example",
        "LEGACY_LOGIN_URL": "https://rp.example/login",
        "LEGACY_PLATFORM_URL": "https://fuwu.example",
        "LEGACY_INSTRUCTIONS_URL": "http://fuwu.example/guide.pdf",
    }
    with pytest.raises(ConfigError, match="LEGACY_INSTRUCTIONS_URL is not https"):
        load_settings(env)
    env["LEGACY_INSTRUCTIONS_URL"] = "https://fuwu.example/guide.pdf"
    assert load_settings(env).production


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        load_settings({}, overrides={"colour": "red"})


def test_every_setting_is_documented_with_its_default_in_the_readme_section() -> None:
    text = README_SECTION.read_text(encoding="utf-8")
    listed = documented_settings()
    assert len(listed) == len(fields(Settings))
    for name, default in listed:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}`")), None)
        assert row is not None, f"{name} missing from README.md"
        assert f"`{default}`" in row or (default == "" and "(empty)" in row), f"{name}: default {default!r}"
