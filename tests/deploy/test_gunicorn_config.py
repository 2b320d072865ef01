"""deploy/gunicorn/sso.conf.py, loaded by a real gunicorn master with real workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.support.live import ROOT, free_port, running

CONFIG = ROOT / "deploy" / "gunicorn" / "sso.conf.py"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
APP = "tests.deploy.gunicorn_probe_app:app"


def clean_env(**env: str) -> dict[str, str]:
    """The test's environment without any gunicorn setting inherited from the caller."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_") and k != "WEB_CONCURRENCY"
    }
    return {**inherited, **env}


def print_config(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run(
        [GUNICORN, "--config", str(CONFIG), "--print-config", APP],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    settings = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            settings[name.strip()] = value.strip()
    return settings


def test_settings_follow_the_environment() -> None:
    settings = print_config(
        {"GUNICORN_WORKERS": "3", "GUNICORN_GRACEFUL_TIMEOUT": "45", "GUNICORN_THREADS": "2"}
    )
    assert settings["workers"] == "3"
    assert settings["threads"] == "2"
    assert settings["graceful_timeout"] == "45"
    assert settings["accesslog"] == "None"
    assert settings["forwarded_allow_ips"] == "['127.0.0.1', '::1']"


def test_web_concurrency_is_the_fallback_for_workers() -> None:
    assert print_config({"WEB_CONCURRENCY": "5"})["workers"] == "5"
    assert print_config({"WEB_CONCURRENCY": "5", "GUNICORN_WORKERS": "2"})["workers"] == "2"


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1e3", "1_000", "4 workers", "\u0663", "65", "9" * 200])
def test_a_bad_number_stops_gunicorn_with_a_message(value: str) -> None:
    result = subprocess.run(
        [GUNICORN, "--config", str(CONFIG), "--check-config", APP],
        env=clean_env(GUNICORN_WORKERS=value),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "GUNICORN_WORKERS must be a positive integer" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    # Left by a previous master whose workers no longer exist.
    (metrics / "counter_999999.db").write_bytes(b"\0" * 16)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {"GUNICORN_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    args = [GUNICORN, "--config", str(CONFIG), "--bind", f"127.0.0.1:{port}", APP]
    with running(args, env, f"http://127.0.0.1:{port}/", log):
        yield f"http://127.0.0.1:{port}", metrics, log


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_dead_worker_leaves_no_live_metrics(served: tuple[str, Path, Path]) -> None:
    url, metrics, _log = served
    assert not (metrics / "counter_999999.db").exists()
    pid = requests.get(url, timeout=5).json()["pid"]
    live_file = metrics / f"gauge_livesum_{pid}.db"
    assert live_file.exists()

    os.kill(pid, signal.SIGKILL)

    assert wait_for(lambda: not live_file.exists()), "child_exit did not remove the dead worker's gauge"
    # The master replaces the worker and keeps serving.
    assert wait_for(lambda: requests.get(url, timeout=5).json()["pid"] != pid)


def test_no_access_log_and_the_local_proxy_is_believed(served: tuple[str, Path, Path]) -> None:
    url, _metrics, log = served
    marker = "/only-in-an-access-log-7f3a"
    answer = requests.get(url + marker, headers={"X-Forwarded-Proto": "https"}, timeout=5).json()
    assert answer["scheme"] == "https"
    time.sleep(0.3)
    text = log.read_text(encoding="utf-8")
    assert "Booting worker" in text
    assert marker not in text
