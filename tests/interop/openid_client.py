"""Runs ``node/oidc-flow.mjs`` (panva's openid-client) and returns what it printed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.services import unavailable

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "oidc-flow.mjs"
MIN_NODE_MAJOR = 20
NPM_TIMEOUT = 300.0
RUN_TIMEOUT = 60.0


@dataclass(frozen=True)
class OpenIDClient:
    node: str

    def run(self, command: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One command of the script; its JSON answer. A crash of the script fails the test."""
        result = subprocess.run(
            [self.node, str(SCRIPT), command],
            input=json.dumps(payload),
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        lines = result.stdout.strip().splitlines()
        assert lines, (
            f"oidc-flow.mjs {command} printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
        )
        answer: dict[str, Any] = json.loads(lines[-1])
        assert result.returncode == 0 and "fatal" not in answer, (
            f"oidc-flow.mjs {command} failed (exit {result.returncode}): {answer} {result.stderr[-2000:]}"
        )
        return answer


def install() -> OpenIDClient:
    """``npm ci`` from the committed lock file; a missing Node or npm skips (fails in CI)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("Node.js and npm are needed for the interoperability tests (apt-get install nodejs npm)")
    assert node is not None and npm is not None
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < MIN_NODE_MAJOR:
        unavailable(
            f"openid-client 6 needs Node.js {MIN_NODE_MAJOR} or later, found {version.strip() or 'none'}"
        )
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    if installed.returncode != 0:
        unavailable(f"npm ci failed: {installed.stderr.strip()[-1000:]}")
    return OpenIDClient(node)
