"""Access-log lines and other log records never carry a full ID number or mobile."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from idp import create_app
from idp.observability import configure_logging

NUMBER = "110108198506151358"
MOBILE = "13812345678"


def test_paths_and_messages_are_masked(
    database_url: str, caplog: pytest.LogCaptureFixture, capsys: Any
) -> None:
    app = create_app(
        {"database_url": database_url, "captcha": "off", "redis_prefix": f"t{uuid.uuid4().hex[:8]}:"}
    )
    with caplog.at_level(logging.INFO):
        resp = app.test_client().get(f"/lookup/{NUMBER}?mobile={MOBILE}")
    assert resp.status_code == 404
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "/lookup/" in logged and NUMBER not in logged
    configure_logging(level="INFO", json_lines=True)
    try:
        logging.getLogger("anything").info("person %s called from %s", NUMBER, MOBILE)
        err = capsys.readouterr().err
        assert NUMBER not in err and MOBILE not in err and "1101" in err
    finally:
        logging.getLogger().handlers.clear()
