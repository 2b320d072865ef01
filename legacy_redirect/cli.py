"""``legacy-redirect``: run the legacy host with gunicorn, or check its configuration.

::

    legacy-redirect serve [--host H] [--port P] [--workers N]
    legacy-redirect check-config

Exit codes: 0 success, 2 bad command line, 78 unusable configuration (sysexits ``EX_CONFIG``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

from gunicorn.app.base import BaseApplication

from legacy_redirect.config import EX_CONFIG, ConfigError, Settings, documented_settings, load_settings
from legacy_redirect.redirects import load_redirect_map

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("port must be between 1 and 65535")
    return value


def _workers(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("workers must be between 1 and 64")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="legacy-redirect",
        description="Migration notice and redirects for the old training-system address.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the app with gunicorn (LEGACY_* variables configure it)")
    serve.add_argument("--host", help="interface to bind (default LEGACY_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port to listen on (default LEGACY_PORT, 8001)")
    serve.add_argument("--workers", type=_workers, help="worker processes (default LEGACY_WORKERS, 2)")
    commands.add_parser(
        "check-config", help="validate LEGACY_* variables and the deep-link map, then print them"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides = {k: v for k in ("host", "port", "workers") if (v := getattr(args, k, None)) is not None}
        settings = load_settings(overrides=overrides)
        redirects = load_redirect_map(settings)
    except ConfigError as exc:
        print(f"legacy-redirect: configuration error: {exc}", file=sys.stderr)
        return EX_CONFIG
    if args.command == "check-config":
        try:
            _print_config(settings, redirects.items())
        except BrokenPipeError:  # output piped into `head` and the like
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return _serve(settings)


def _print_config(settings: Settings, redirects: list[tuple[str, str]]) -> None:
    print("configuration is valid")
    for name, _default in documented_settings():
        value = getattr(settings, name.removeprefix("LEGACY_").lower())
        print(f"  {name}={value}")
    print(f"deep-link map ({len(redirects)} entries):")
    for old, location in redirects:
        print(f"  {old} -> {location}")


def _serve(settings: Settings) -> int:
    # Every worker counts visits into files in this directory so /metrics can add them up; it must be
    # set before any worker imports prometheus_client (see legacy_redirect.create_app).
    own_dir = None
    if not os.environ.get(MULTIPROC_ENV):
        own_dir = tempfile.mkdtemp(prefix="legacy-redirect-metrics-")
        os.environ[MULTIPROC_ENV] = own_dir
    try:
        GunicornServer(settings).run()
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": None,  # the app writes its own JSON access lines
        "errorlog": "-",
        "proc_name": "legacy-redirect",
        # Scheme and client address come only through LEGACY_TRUSTED_PROXIES (ProxyFix), so gunicorn
        # itself must not believe X-Forwarded-Proto from anyone.
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "child_exit": _child_exit,
        "graceful_timeout": 10,
        # gunicorn 25.1+ opens a per-user control socket by default; the three apps would fight over
        # one path, and nobody needs to resize this app at run time.
        "control_socket_disable": True,
    }


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn run from code; each worker builds its own app after the fork."""

    def __init__(self, settings: Settings) -> None:
        self.options = gunicorn_options(settings)
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # older gunicorn releases lack some settings
                self.cfg.set(key, value)

    def load(self) -> Any:
        from legacy_redirect import create_app

        return create_app()
