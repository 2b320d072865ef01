"""deploy/systemd/env/*.env.example: settings files the apps accept once the secrets are filled in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.deploy.app_settings import is_setting, load, made_up_secret
from tests.support.live import ROOT

ENV_DIR = ROOT / "deploy" / "systemd" / "env"
EXAMPLES = {
    "idp.env.example": "IDP_",
    "legacy-redirect.env.example": "LEGACY_",
    "training-rp.env.example": "RP_",
}
LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")


def parse(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"{path.name}: not a KEY=value line: {line!r}"
        assert match.group(1) not in values, f"{path.name}: {match.group(1)} twice"
        values[match.group(1)] = match.group(2)
    return values


def test_each_unit_reads_one_of_the_examples() -> None:
    assert sorted(p.name for p in ENV_DIR.glob("*.env.example")) == sorted(EXAMPLES)
    units = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "deploy" / "systemd").glob("*.service"))
    for example in EXAMPLES:
        assert f"EnvironmentFile=/etc/sso/{example.removesuffix('.example')}\n" in units


@pytest.mark.parametrize(("example", "prefix"), sorted(EXAMPLES.items()))
def test_every_name_is_a_real_setting(example: str, prefix: str) -> None:
    for name in parse(ENV_DIR / example):
        assert is_setting(name), f"{example}: {name} is read by nothing"
        assert name.startswith((prefix, "GUNICORN_")), f"{example}: {name} belongs to another app"


@pytest.mark.parametrize(("example", "prefix"), sorted(EXAMPLES.items()))
def test_filled_in_the_example_is_a_production_config(example: str, prefix: str) -> None:
    values = parse(ENV_DIR / example)
    filled = {name: value or made_up_secret(name) for name, value in values.items()}
    assert load(prefix, filled).production


@pytest.mark.parametrize(
    ("example", "prefix"), [("idp.env.example", "IDP_"), ("training-rp.env.example", "RP_")]
)
def test_unfilled_secrets_stop_the_app(example: str, prefix: str) -> None:
    """Copied without filling in the secrets, the app refuses to start instead of running unsafely."""
    values = {k: v for k, v in parse(ENV_DIR / example).items() if not k.endswith("DATABASE_URL")}
    with pytest.raises(Exception, match="SECRET_KEY|DATA_KEY|CLIENT_SECRET"):
        load(prefix, values)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_no_secret_is_filled_in(example: str) -> None:
    for name, value in parse(ENV_DIR / example).items():
        if re.search(r"SECRET|TOKEN|_KEY$|_KEYS$|DATABASE_URL|REDIS_URL", name):
            assert value == "", f"{example}: {name} must be left for the operator"
