"""deploy/systemd/: systemd's own verifier and its exposure score, with the shipped unit files."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.live import ROOT
from tests.support.services import unavailable

UNITS = ROOT / "deploy" / "systemd"
SERVICES = sorted(p.name for p in UNITS.glob("*.service"))
VENV_BIN = "/opt/sso/venv/bin/"


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if not found:
        unavailable("systemd-analyze is not installed (apt-get install systemd)")
        raise AssertionError("unreachable")
    return found


def staged_units(tmp_path: Path) -> Path:
    """The units with the virtualenv moved to a scratch bin/ holding executables of the same names.

    systemd-analyze verify insists that every Exec*= command exists; nothing is run.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    units = tmp_path / "units"
    units.mkdir()
    for unit in (p for p in UNITS.iterdir() if p.is_file()):
        text = unit.read_text(encoding="utf-8")
        for command in re.findall(rf"{re.escape(VENV_BIN)}([\w-]+)", text):
            stub = bin_dir / command
            stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
            stub.chmod(0o755)
        (units / unit.name).write_text(text.replace(VENV_BIN, f"{bin_dir}/"), encoding="utf-8")
    return units


APP_SERVICES = ["sso-idp.service", "sso-legacy-redirect.service", "sso-training-rp.service"]


def test_the_three_apps_and_key_rotation_have_units() -> None:
    assert SERVICES == ["sso-idp-keys.service", *APP_SERVICES]
    assert (UNITS / "sso-idp-keys.timer").exists()


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = systemd_analyze()
    units = staged_units(tmp_path)
    paths = [str(units / name) for name in [*SERVICES, "sso.target", "sso-idp-keys.timer"]]
    result = subprocess.run([analyze, "verify", *paths], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@pytest.mark.parametrize("service", SERVICES)
def test_units_are_hardened(tmp_path: Path, service: str) -> None:
    analyze = systemd_analyze()
    units = staged_units(tmp_path)
    result = subprocess.run(
        [analyze, "security", "--offline=yes", "--threshold=20", str(units / service)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score is not None, result.stdout[-2000:]
    # systemd rates 0-10; below 2 is its "OK" band.
    assert float(score.group(1)) < 2.0


def test_key_rotation_covers_both_signing_algorithms() -> None:
    text = (UNITS / "sso-idp-keys.service").read_text(encoding="utf-8")
    assert f"ExecStart={VENV_BIN}idp keys rotate --alg RS256\n" in text
    assert f"ExecStart={VENV_BIN}idp keys rotate --alg ES256\n" in text
    assert "EnvironmentFile=/etc/sso/idp.env\n" in text


@pytest.mark.parametrize(
    ("service", "migrates"),
    [("sso-idp.service", "idp db upgrade"), ("sso-training-rp.service", "training-rp db upgrade")],
)
def test_apps_with_a_database_migrate_before_serving(service: str, migrates: str) -> None:
    text = (UNITS / service).read_text(encoding="utf-8")
    assert f"ExecStartPre={VENV_BIN}{migrates}\n" in text
    assert text.index("ExecStartPre=") < text.index("ExecStart=")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_units_read_settings_from_a_root_only_file_and_serve_on_loopback(service: str) -> None:
    text = (UNITS / service).read_text(encoding="utf-8")
    assert re.search(r"^EnvironmentFile=/etc/sso/[\w-]+\.env$", text, flags=re.MULTILINE)
    assert re.search(r"--bind 127\.0\.0\.1:800[012] ", text)
    # Nothing secret in the unit itself (units are world-readable).
    for line in re.findall(r"^Environment=(.*)$", text, flags=re.MULTILINE):
        assert not re.search(r"SECRET|KEY|PASSWORD|DATABASE_URL|REDIS_URL", line), line


def test_verify_catches_a_misspelt_option(tmp_path: Path) -> None:
    """The verify check above has teeth: systemd reports an unknown key on stderr."""
    analyze = systemd_analyze()
    units = staged_units(tmp_path)
    unit = units / "sso-idp.service"
    unit.write_text(
        unit.read_text(encoding="utf-8").replace("ProtectClock=yes", "ProtectClok=yes"), encoding="utf-8"
    )
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert "ProtectClok" in result.stderr
