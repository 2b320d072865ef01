"""Every shell script under deploy/ parses and passes shellcheck."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.live import ROOT
from tests.support.services import unavailable

SCRIPTS = sorted((ROOT / "deploy").rglob("*.sh"))


def test_the_scripts_are_there_and_executable() -> None:
    names = {p.relative_to(ROOT / "deploy").as_posix() for p in SCRIPTS}
    assert names == {
        "kubernetes/rollout.sh",
        "local-cluster/run.sh",
        "local-cluster/stop.sh",
        "postgres/dump.sh",
    }
    for script in SCRIPTS:
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"
        assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")
        assert "set -euo pipefail" in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bash_parses_the_script(script: object) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_finds_nothing(script: object) -> None:
    shellcheck = shutil.which("shellcheck")
    if not shellcheck:
        unavailable("shellcheck is not installed (apt-get install shellcheck)")
        return
    result = subprocess.run(
        [shellcheck, "--severity=info", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def test_rollout_refuses_unknown_arguments() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "deploy" / "kubernetes" / "rollout.sh"), "--yes-really"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
