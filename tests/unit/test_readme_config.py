"""The README's configuration table stays in step with idp/config.py."""

from __future__ import annotations

from pathlib import Path

from devtools.config_table import rows

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_idp_setting_is_documented_with_its_default() -> None:
    for name, default, doc in rows():
        line = next((ln for ln in README.splitlines() if ln.startswith(f"| `{name}` |")), None)
        assert line is not None, f"{name} missing from README.md"
        assert f"`{default}`" in line, f"{name}: README shows another default than config.py"
        assert doc, f"{name} has no #: comment in idp/config.py"


def test_readme_names_the_two_setup_commands() -> None:
    assert "make run" in README and "make test" in README
