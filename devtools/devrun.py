"""`make run`: the whole demo on one machine with the embedded defaults.

Migrates the SQLite databases, seeds the demo if empty, then runs the IdP (8000), the legacy host
(8001), the training system (8002) and the national verification simulator (8010) as separate
processes under their production servers, and prints where to go and how to sign in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
PORTS = {"idp": 8000, "legacy": 8001, "rp": 8002, "source": 8010}


def _cmd(name: str, *args: str) -> list[str]:
    return [str(BIN / name), *args]


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{' '.join(args[:3])} failed with exit code {done.returncode}")
    return done.stdout


def main() -> int:
    env = dict(os.environ)
    issuer = f"http://{HOST}:{PORTS['idp']}"
    rp_base = f"http://{HOST}:{PORTS['rp']}"
    env.setdefault("IDP_ISSUER", issuer)
    env.setdefault("IDP_REALNAME_SOURCE_URL", f"http://{HOST}:{PORTS['source']}")
    env.setdefault("RP_ISSUER", issuer)
    env.setdefault("RP_BASE_URL", rp_base)
    env.setdefault("LEGACY_LOGIN_URL", f"{rp_base}/login")
    env.setdefault("LEGACY_PLATFORM_URL", issuer)
    env.setdefault("LEGACY_PUBLIC_URL", f"http://{HOST}:{PORTS['legacy']}")
    (ROOT / "instance").mkdir(exist_ok=True)

    _run(_cmd("idp", "db", "upgrade"), env)
    seeded = _run(_cmd("idp", "demo", "seed", "--rp-base-url", rp_base), env)
    _run(_cmd("training-rp", "db", "upgrade"), env)

    procs: list[subprocess.Popen[bytes]] = []
    specs = [
        (
            "national-source-sim",
            ["serve", "--host", HOST, "--port", str(PORTS["source"])],
            f"http://{HOST}:{PORTS['source']}/healthz",
        ),
        (
            "idp",
            ["serve", "--host", HOST, "--port", str(PORTS["idp"]), "--workers", "2"],
            f"{issuer}/healthz",
        ),
        (
            "legacy-redirect",
            ["serve", "--host", HOST, "--port", str(PORTS["legacy"])],
            f"http://{HOST}:{PORTS['legacy']}/robots.txt",
        ),
        ("training-rp", ["serve", "--host", HOST, "--port", str(PORTS["rp"])], f"{rp_base}/healthz"),
    ]
    try:
        for name, args, ready in specs:
            procs.append(subprocess.Popen(_cmd(name, *args), env=env, cwd=ROOT))  # noqa: S603
            _wait(ready, name)
        print("\n" + "=" * 72)
        print(f"IdP (统一身份认证平台)         {issuer}/")
        print(f"  discovery                    {issuer}/.well-known/openid-configuration")
        print(f"Legacy host (otm notice)       http://{HOST}:{PORTS['legacy']}/")
        print(f"Training system (relying party) {rp_base}/")
        print(f"National source simulator      http://{HOST}:{PORTS['source']}/")
        print("Demo data:")
        for line in seeded.strip().splitlines():
            print("  " + line)
        print("  demo users: demo / Training2026go, reviewer / Check2026pass")
        print("  unit (法人登录): demounit / Unit2026seal")
        print("  training client: client_id training, secret dev-training-secret")
        print("Press Ctrl+C to stop.")
        print("=" * 72, flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def _wait(url: str, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} did not start (waited for {url})")


if __name__ == "__main__":
    sys.exit(main())
