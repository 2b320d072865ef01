"""Prints the README's IdP configuration table from ``idp/config.py`` (the source of truth).

Usage: ``python -m devtools.config_table``; tests/unit/test_readme_config.py keeps README in step.
"""

from __future__ import annotations

import ast
from dataclasses import MISSING, fields
from pathlib import Path

from idp.config import Settings

CONFIG = Path(__file__).resolve().parents[1] / "idp" / "config.py"


def documented_fields() -> dict[str, str]:
    """field name -> its ``#:`` comment, read from the source."""
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    tree = ast.parse(CONFIG.read_text(encoding="utf-8"))
    docs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    comment: list[str] = []
                    index = item.lineno - 2
                    while index >= 0 and lines[index].strip().startswith("#:"):
                        comment.insert(0, lines[index].strip()[2:].strip())
                        index -= 1
                    docs[item.target.id] = " ".join(comment)
    return docs


def rows() -> list[tuple[str, str, str]]:
    docs = documented_fields()
    out = []
    for f in fields(Settings):
        default = f.default if f.default is not MISSING else ""
        shown = "(empty)" if default == "" else str(default)
        if f.name == "database_url":
            shown = "sqlite:///instance/idp.sqlite3"
        elif f.name == "outbox_dir":
            shown = "instance/outbox"
        out.append((f"IDP_{f.name.upper()}", shown, docs.get(f.name, "")))
    return out


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, default, doc in rows():
        lines.append(f"| `{name}` | `{default}` | {doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
