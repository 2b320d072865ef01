"""``legacy-redirect`` command line: check-config output, exit codes for bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from legacy_redirect.cli import build_parser, gunicorn_options, main
from legacy_redirect.config import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("LEGACY_"):
            monkeypatch.delenv(key)


def test_check_config_prints_settings_and_map(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("configuration is valid")
    assert "LEGACY_LOGIN_URL=http://127.0.0.1:8002/login" in out
    assert "/login.jsp -> http://127.0.0.1:8002/login" in out


def test_check_config_refuses_production_with_http_targets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEGACY_ENV", "production")
    assert main(["check-config"]) == 78
    err = capsys.readouterr().err
    assert err.startswith("legacy-redirect: configuration error: refusing to start in production")
    assert "Traceback" not in err


def test_broken_map_file_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "map.txt"
    path.write_text("/a nowhere\n", encoding="utf-8")
    monkeypatch.setenv("LEGACY_REDIRECTS_FILE", str(path))
    assert main(["check-config"]) == 78
    assert f"{path}:1" in capsys.readouterr().err


def test_serve_refuses_bad_configuration_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEGACY_LOGIN_URL", "ftp://nowhere")
    assert main(["serve", "--port", "8123"]) == 78
    assert "LEGACY_LOGIN_URL" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [[], ["launch"], ["serve", "--port", "0"], ["serve", "--port", "http"], ["serve", "--workers", "-1"]],
)
def test_bad_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: legacy-redirect" in capsys.readouterr().err


def test_serve_options_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACY_PORT", "9000")
    args = build_parser().parse_args(["serve", "--host", "::1", "--port", "8123", "--workers", "3"])
    settings = load_settings(overrides={"host": args.host, "port": args.port, "workers": args.workers})
    options = gunicorn_options(settings)
    assert options["bind"] == "[::1]:8123"
    assert options["workers"] == 3
    assert options["forwarded_allow_ips"] == ""
    assert options["accesslog"] is None
