"""Every IDP_*, LEGACY_* and RP_* name written anywhere under deploy/ is a setting an app reads."""

from __future__ import annotations

import re

from tests.deploy.app_settings import is_setting
from tests.support.live import ROOT

NAME = re.compile(r"(?<![A-Z0-9_])(?:IDP|LEGACY|RP)_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_])")


def test_no_deployment_file_names_a_setting_that_does_not_exist() -> None:
    files = [p for p in (ROOT / "deploy").rglob("*") if p.is_file()]
    seen: dict[str, str] = {}
    for path in files:
        for name in NAME.findall(path.read_text(encoding="utf-8")):
            seen.setdefault(name, path.relative_to(ROOT).as_posix())
    assert len(seen) > 30
    unknown = {name: where for name, where in seen.items() if not is_setting(name)}
    assert unknown == {}
