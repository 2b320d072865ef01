"""The ``training-rp`` command: schema, administrators, listing, rotation; errors as exit codes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.training_rp.helpers import synthetic_id
from training_rp.cli import main
from training_rp.idnumber import mask

KEY1 = base64.urlsafe_b64encode(os.urandom(32)).decode()
KEY2 = base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"RP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "RP_DATA_KEY": KEY1}


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


def test_upgrade_then_add_and_list_an_administrator(env: dict[str, str]) -> None:
    assert run(env, "db", "upgrade").exit_code == 0
    added = run(env, "admin", "add", "--name", "王管理", "--id-number", synthetic_id(1))
    assert added.exit_code == 0, added.output
    assert mask(synthetic_id(1)) in added.output and synthetic_id(1) not in added.output
    listed = run(env, "accounts", "list")
    assert listed.exit_code == 0
    assert "ministry_admin\t王管理\t引智司" in listed.output
    assert mask(synthetic_id(1)) in listed.output and synthetic_id(1) not in listed.output
    assert "unbound" in listed.output


def test_the_id_number_may_be_typed_at_a_prompt(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    result = run(env, "admin", "add", "--name", "王管理", stdin=synthetic_id(1) + "\n")
    assert result.exit_code == 0, result.output
    assert synthetic_id(1) not in result.output


def test_bad_input_and_conflicts_give_their_exit_codes(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    invalid = run(env, "admin", "add", "--name", "王管理", "--id-number", "110105194912310021")
    assert invalid.exit_code == 2 and "invalid id number" in invalid.output
    assert "110105194912310021" not in invalid.output
    assert run(env, "admin", "add", "--name", "", "--id-number", synthetic_id(1)).exit_code == 2
    assert run(env, "admin", "add", "--name", "王管理", "--id-number", synthetic_id(1)).exit_code == 0
    assert run(env, "admin", "add", "--name", "另一人", "--id-number", synthetic_id(1)).exit_code == 4
    assert run(env, "accounts", "list", "--role", "nobody").exit_code == 2


def test_unsafe_or_broken_configuration_exits_78(env: dict[str, str]) -> None:
    assert run({**env, "RP_ENV": "production"}, "db", "upgrade").exit_code == 78
    assert run({**env, "RP_DATA_KEY": "short"}, "accounts", "list").exit_code == 78


def test_serve_refuses_an_unmigrated_database(env: dict[str, str]) -> None:
    result = run(env, "serve", "--port", "1")
    assert result.exit_code == 78
    assert "training-rp db upgrade" in result.output


def test_an_unmigrated_database_is_reported_not_a_traceback(env: dict[str, str]) -> None:
    result = run(env, "accounts", "list")
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_rekey_moves_every_number_to_the_new_key(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    run(env, "admin", "add", "--name", "王管理", "--id-number", synthetic_id(1))
    rotated = {**env, "RP_DATA_KEY": KEY2, "RP_DATA_KEY_ID": "k2", "RP_OLD_DATA_KEYS": f"k1:{KEY1}"}
    assert mask(synthetic_id(1)) in run(rotated, "accounts", "list").output
    assert "re-encrypted 1" in run(rotated, "data", "rekey").output
    new_only = {**env, "RP_DATA_KEY": KEY2, "RP_DATA_KEY_ID": "k2"}
    assert mask(synthetic_id(1)) in run(new_only, "accounts", "list").output
    # A duplicate is still found after rotation (the blind index moved with the key).
    assert run(new_only, "admin", "add", "--name", "x", "--id-number", synthetic_id(1)).exit_code == 4


def test_purge_reports_what_it_removed(env: dict[str, str]) -> None:
    run(env, "db", "upgrade")
    result = run(env, "sessions", "purge")
    assert result.exit_code == 0 and "removed 0 session(s)" in result.output


def test_the_module_runs_as_a_command(env: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "training_rp", "--help"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0
    for command in ("serve", "db", "admin", "accounts"):
        assert command in completed.stdout
