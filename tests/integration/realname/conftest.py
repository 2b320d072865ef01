"""A real verification-source simulator process, and real-name services on both storage set-ups."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from idp.accounts.services import AccountService
from idp.config import load_settings
from idp.db import Database
from idp.realname.identity import IdentityCodec
from idp.realname.review import ReviewService
from idp.realname.services import Actor, ProfileInput, ProfileService
from idp.realname.source import NationalSourceClient
from idp.store import EphemeralStore
from national_source.register import DEMO_PEOPLE
from tests.support.live import free_port, running

TOKEN = "realname-test-token"


@pytest.fixture(scope="session")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("source") / "source.log"
    args = [sys.executable, "-m", "national_source", "serve", "--port", str(port), "--workers", "1"]
    with running(args, {"NATIONAL_SOURCE_TOKEN": TOKEN}, f"{base}/healthz", log):
        yield base


@pytest.fixture()
def codec() -> IdentityCodec:
    return IdentityCodec(load_settings(environ={}))


@pytest.fixture()
def profiles(
    database: Database, store: EphemeralStore, codec: IdentityCodec, source_url: str
) -> ProfileService:
    return ProfileService(database, store, codec, NationalSourceClient(source_url, TOKEN, allow_private=True))


@pytest.fixture()
def reviews(database: Database, codec: IdentityCodec) -> ReviewService:
    return ReviewService(database, codec)


@pytest.fixture()
def accounts(database: Database, store: EphemeralStore) -> AccountService:
    return AccountService(database, store, load_settings(environ={}))


@pytest.fixture()
def demo_person() -> Any:
    return DEMO_PEOPLE[0]


def profile_of(person: Any, **changes: str) -> ProfileInput:
    data = ProfileInput(
        name=person.name,
        gender=person.gender,
        ethnicity="01",
        birth_date=person.birth_date,
        region_type="mainland",
        document_type="resident_id",
        id_number=person.id_number,
        continent="AS",
        country="CN",
        address="北京市海淀区",
    )
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def photo(color: str = "white", fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 400), color).save(buf, fmt)
    return buf.getvalue()


def actor(user_id: str) -> Actor:
    return Actor(user_id=user_id, ip="203.0.113.7", request_id="test")
