"""The deep-link map file: the shipped entries, matching rules and refusals of unusable entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from legacy_redirect.config import ConfigError, load_settings
from legacy_redirect.redirects import load_redirect_map, normalise_path, parse_redirect_map

SETTINGS = load_settings(
    {},
    overrides={
        "login_url": "https://rp.example/login",
        "platform_url": "https://fuwu.example",
        "public_url": "https://otm.example",
    },
)


def test_shipped_map_sends_old_login_and_index_pages_to_their_new_homes() -> None:
    redirects = dict(load_redirect_map(SETTINGS).items())
    assert redirects["/login.jsp"] == "https://rp.example/login"
    assert redirects["/login.do"] == "https://rp.example/login"
    assert redirects["/index.jsp"] == "https://otm.example/"
    assert redirects["/help.jsp"] == "https://otm.example/instructions"
    assert "/" not in redirects


def test_configured_instructions_url_replaces_the_shipped_document() -> None:
    settings = load_settings({}, overrides={"instructions_url": "https://fuwu.example/guide.pdf"})
    assert dict(load_redirect_map(settings).items())["/help.jsp"] == "https://fuwu.example/guide.pdf"


@pytest.mark.parametrize(
    ("requested", "key"),
    [
        ("/Login.JSP", "/login.jsp"),
        ("/login.jsp/", "/login.jsp"),
        ("/login.jsp//", "/login.jsp"),
        ("/login.jsp;jsessionid=0A1B2C", "/login.jsp"),
        ("/", "/"),
        ("//", "/"),
        ("/a;b/c", "/a;b/c"),
    ],
)
def test_paths_are_compared_without_case_trailing_slash_or_session_parameter(
    requested: str, key: str
) -> None:
    assert normalise_path(requested) == key


def test_lookup_ignores_everything_but_the_path() -> None:
    redirects = load_redirect_map(SETTINGS)
    found = redirects.lookup("/LOGIN.do;jsessionid=x")
    assert found is not None
    assert (found.old_path, found.location) == ("/login.do", "https://rp.example/login")
    assert redirects.lookup("/unknown.jsp") is None


def test_absolute_url_targets_are_allowed() -> None:
    text = "/old/guide.pdf   https://fuwu.example/files/guide.pdf   # moved\n\n# comment only\n"
    redirects = parse_redirect_map(text, SETTINGS)
    assert redirects.items() == [("/old/guide.pdf", "https://fuwu.example/files/guide.pdf")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/a", "expected 'old-path target'"),
        ("/a login extra", "expected 'old-path target'"),
        ("a.jsp login", "must start with /"),
        ("/a?x=1 login", "hold no query"),
        ("/ login", "answered by this app"),
        ("/robots.txt login", "answered by this app"),
        ("/assets/notice.css login", "answered by this app"),
        ("/a elsewhere", "target must be one of"),
        ("/a ftp://files.example/a", "target must be one of"),
        ("/a https://user:pw@files.example/a", "must not contain credentials"),
        ("/a https://files.example\\@evil.example/", "backslashes"),
    ],
)
def test_unusable_entries_are_refused_with_their_line(line: str, message: str) -> None:
    with pytest.raises(ConfigError, match="map:1") as refused:
        parse_redirect_map(line, SETTINGS)
    assert message in str(refused.value)


def test_duplicates_are_refused_even_in_another_spelling() -> None:
    with pytest.raises(ConfigError, match=r"map:2: /a.jsp appears twice"):
        parse_redirect_map("/a.jsp login\n/A.JSP/ platform\n", SETTINGS)


def test_production_refuses_plain_http_targets_in_the_map() -> None:
    settings = load_settings(
        {},
        overrides={
            "env": "production",
            "login_url": "https://rp.example/login",
            "platform_url": "https://fuwu.example",
            "public_url": "https://otm.example",
        },
    )
    with pytest.raises(ConfigError, match="is not https"):
        parse_redirect_map("/a http://fuwu.example/a\n", settings)


def test_map_file_from_configuration(tmp_path: Path) -> None:
    path = tmp_path / "map.txt"
    path.write_text("/old.jsp platform\n", encoding="utf-8")
    settings = load_settings({"LEGACY_REDIRECTS_FILE": str(path)})
    assert load_redirect_map(settings).items() == [("/old.jsp", "http://127.0.0.1:8000")]


def test_missing_or_undecodable_map_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_redirect_map(load_settings({"LEGACY_REDIRECTS_FILE": str(tmp_path / "absent.txt")}))
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"/a \xff\xfe login\n")
    with pytest.raises(ConfigError, match="UnicodeDecodeError"):
        load_redirect_map(load_settings({"LEGACY_REDIRECTS_FILE": str(binary)}))
