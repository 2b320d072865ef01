"""JSON access lines: one per request, escaped, without query strings, with a request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from legacy_redirect.access_log import LOGGER_NAME, MAX_PATH_LOG, escape_path


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture()
def access_lines() -> Iterator[list[str]]:
    handler = Collect()
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


def only_record(lines: list[str]) -> dict[str, Any]:
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0]
    record: dict[str, Any] = json.loads(lines[0])
    return record


def test_one_json_line_with_the_agreed_fields(client: FlaskClient, access_lines: list[str]) -> None:
    response = client.get("/login.jsp?password=hunter2", headers={"Referer": "https://www.baidu.com/s?wd=x"})
    record = only_record(access_lines)
    assert record["method"] == "GET"
    assert record["path"] == "/login.jsp"
    assert record["status"] == 301
    assert record["referrer_host"] == "www.baidu.com"
    assert record["request_id"] == response.headers["X-Request-ID"]
    assert record["time"].endswith("Z")
    assert isinstance(record["duration_ms"], float)
    assert "hunter2" not in access_lines[0]


def test_crlf_and_non_utf8_bytes_are_escaped(client: FlaskClient, access_lines: list[str]) -> None:
    client.get(environ_overrides={"PATH_INFO": '/a\r\n{"status": 200}\xff\xfe"x'})
    record = only_record(access_lines)
    assert record["path"] == "/a%0D%0A%7B%22status%22:%20200%7D%FF%FE%22x"
    assert access_lines[0].isascii()


def test_long_paths_are_truncated(client: FlaskClient, access_lines: list[str]) -> None:
    client.get("/" + "a" * 50_000)
    record = only_record(access_lines)
    assert record["path"].endswith("...(truncated)")
    assert len(record["path"]) < MAX_PATH_LOG + 20


def test_hostile_method_and_referrer_are_escaped(client: FlaskClient, access_lines: list[str]) -> None:
    client.open("/", method="GE\r\nT", environ_overrides={"HTTP_REFERER": "http://evil\r\nhost.example/"})
    record = only_record(access_lines)
    assert record["method"] == "GE%0D%0AT"
    assert record["status"] == 405
    assert "\r" not in str(record["referrer_host"])


def test_upstream_request_id_is_kept_when_well_formed(client: FlaskClient, access_lines: list[str]) -> None:
    response = client.get("/", headers={"X-Request-ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
    assert response.headers["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert only_record(access_lines)["request_id"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize("supplied", ["short", "bad id with spaces", "x\r\ny" * 4, "z" * 500])
def test_malformed_request_ids_are_replaced(client: FlaskClient, supplied: str) -> None:
    response = client.get("/", environ_overrides={"HTTP_X_REQUEST_ID": supplied})
    assert response.headers["X-Request-ID"] != supplied
    assert len(response.headers["X-Request-ID"]) == 32


def test_escape_path_unit() -> None:
    assert escape_path("/login.jsp;jsessionid=1") == "/login.jsp;jsessionid=1"
    assert escape_path("/\u4e2d") == "/%E4%B8%AD"  # not latin-1: logged as its UTF-8 bytes
    assert escape_path("/a b") == "/a%20b"
