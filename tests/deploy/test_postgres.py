"""deploy/postgres/: the settings file against a real server's catalogue, and dump.sh for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.live import ROOT
from tests.support.services import postgres_url, scratch_postgres_database, unavailable

PG_DIR = ROOT / "deploy" / "postgres"
SETTING = re.compile(r"^\s*([a-z_]+)\s*=\s*('(?:[^']|'')*'|\S+)\s*(?:#.*)?$")
MEMORY_UNITS = {"kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}
TIME_UNITS = {"us", "ms", "s", "min", "h", "d"}


def shipped_settings() -> dict[str, str]:
    settings: dict[str, str] = {}
    for line in (PG_DIR / "sso.conf").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = SETTING.match(line)
        assert match, f"not a name = value line: {line!r}"
        name, value = match.groups()
        assert name not in settings, f"{name} set twice"
        settings[name] = value[1:-1].replace("''", "'") if value.startswith("'") else value
    return settings


@pytest.mark.services
def test_every_setting_exists_and_has_a_valid_value() -> None:
    engine = create_engine(postgres_url())
    try:
        with engine.connect() as conn:
            catalogue = {
                row.name.lower(): row
                for row in conn.execute(
                    text("SELECT name, vartype, unit, enumvals, min_val, max_val, context FROM pg_settings")
                )
            }
            settings = shipped_settings()
            assert len(settings) > 20
            for name, value in settings.items():
                assert name in catalogue, f"{name} is not a PostgreSQL setting"
                row = catalogue[name]
                if row.vartype == "bool":
                    assert value.lower() in {"on", "off", "true", "false", "yes", "no", "1", "0"}, name
                elif row.vartype == "enum":
                    assert value in row.enumvals, f"{name} = {value} not in {row.enumvals}"
                elif row.vartype in ("integer", "real"):
                    number = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)", value)
                    assert number, f"{name} = {value} is not a number"
                    unit = number.group(2)
                    if unit:
                        allowed = MEMORY_UNITS if row.unit in ("kB", "8kB", "MB") else TIME_UNITS
                        assert unit in allowed, f"{name}: unit {unit} does not fit {row.unit}"
                    elif row.min_val is not None:
                        assert float(row.min_val) <= float(number.group(1)) <= float(row.max_val), name
                # Settings a session may change are checked by the server itself.
                if row.context in ("user", "superuser"):
                    conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
                    conn.rollback()
    finally:
        engine.dispose()


def test_personal_data_in_bind_parameters_is_never_logged() -> None:
    settings = shipped_settings()
    assert settings["log_parameter_max_length"] == "0"
    assert settings["log_parameter_max_length_on_error"] == "0"
    assert settings["password_encryption"] == "scram-sha-256"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def tools() -> None:
    for tool in ("pg_dump", "pg_restore", "psql"):
        if not shutil.which(tool):
            unavailable(f"{tool} is not installed (apt-get install postgresql-client)")


def run_dump(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(PG_DIR / "dump.sh"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


@pytest.mark.services
def test_dump_writes_a_restorable_file_and_prunes_old_ones(tmp_path: Path) -> None:
    tools()
    with scratch_postgres_database() as source, scratch_postgres_database() as target:
        engine = create_engine(source)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE accounts (id serial PRIMARY KEY, login text NOT NULL)"))
            conn.execute(text("INSERT INTO accounts (login) VALUES ('zhangsan')"))
        engine.dispose()
        stale = tmp_path / "old-20000101T000000Z.dump"
        stale.write_bytes(b"old")
        old = time.time() - 20 * 86400
        os.utime(stale, (old, old))

        result = run_dump([str(tmp_path), libpq(source)])

        assert result.returncode == 0, result.stderr
        name = make_url(source).database
        dumps = sorted(tmp_path.glob(f"{name}-*.dump"))
        assert len(dumps) == 1 and result.stdout.strip() == str(dumps[0])
        assert not stale.exists()
        assert dumps[0].stat().st_mode & 0o077 == 0
        restored = subprocess.run(
            ["pg_restore", "--no-owner", f"--dbname={libpq(target)}", str(dumps[0])],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restored.returncode == 0, restored.stderr
        engine = create_engine(target)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT login FROM accounts")).scalar_one() == "zhangsan"
        engine.dispose()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        ([], {}, "usage:"),
        (["DEST"], {"DUMP_KEEP_DAYS": "two weeks"}, "DUMP_KEEP_DAYS must be a whole number"),
        (["DEST"], {"DUMP_KEEP_DAYS": "0"}, "DUMP_KEEP_DAYS must be a whole number"),
    ],
)
def test_dump_refuses_bad_arguments(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_dump([a.replace("DEST", str(tmp_path)) for a in args], **env)
    assert result.returncode == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_dump_of_an_unreachable_database_fails_without_leaving_a_file(tmp_path: Path) -> None:
    tools()
    result = run_dump([str(tmp_path), "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"])
    assert result.returncode != 0
    assert list(tmp_path.glob("*.dump")) == []
