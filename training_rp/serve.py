"""The production server behind ``training-rp serve``: gunicorn with the app factory."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from training_rp.logs import configure_logging

# The request line goes to the log without its query string: the callback's carries a code and state.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        from training_rp import create_app

        return create_app()


def run(host: str, port: int, workers: int) -> None:
    configure_logging()
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "worker_class": "sync",
            "timeout": 30,
            "graceful_timeout": 10,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            # Each worker builds its own app (and database pool) after the fork.
            "preload_app": False,
        }
    ).run()
