"""Importing the old system's accounts: every hash scheme signs in, then becomes argon2id."""

from __future__ import annotations

import base64
import hashlib

import bcrypt
import pytest

from idp.accounts.legacy_import import import_legacy
from idp.accounts.models import User
from idp.accounts.services import AccountService, LoginFailed
from idp.config import load_settings
from idp.db import Database
from idp.errors import InvalidInput
from idp.realname.identity import IdentityCodec
from idp.realname.models import PersonProfile
from idp.store import EphemeralStore

PASSWORD = "old-Passw0rd-2019"
HEADER = "username,password_hash,hash_scheme,name,mobile,email,id_number\n"


def _hashes() -> dict[str, str]:
    salt = "s4lt"
    pbkdf = base64.b64encode(hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), b"pepper", 1000)).decode()
    return {
        "md5": hashlib.md5(PASSWORD.encode()).hexdigest(),  # noqa: S324 - the old system's scheme
        "sha1": hashlib.sha1(PASSWORD.encode()).hexdigest(),  # noqa: S324
        "sha256_salted": f"{salt}${hashlib.sha256((salt + PASSWORD).encode()).hexdigest()}",
        "bcrypt": bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
        "pbkdf2_sha256": f"pbkdf2_sha256$1000$pepper${pbkdf}",
    }


def _csv(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


@pytest.fixture()
def codec() -> IdentityCodec:
    return IdentityCodec(load_settings(environ={}))


def test_every_scheme_logs_in_and_is_rehashed(
    database: Database, store: EphemeralStore, codec: IdentityCodec
) -> None:
    rows = [
        f"old_{scheme},{value},{scheme},用户{i},13800138000,u{i}@example.cn,"
        for i, (scheme, value) in enumerate(_hashes().items())
    ]
    rows.append("old_withid,{},md5,赵六,,,31010419900308206X".format(_hashes()["md5"]))
    report = import_legacy(database, codec, _csv(rows), dry_run=False, actor="test")
    assert len(report.imported) == 6 and not report.rejected
    accounts = AccountService(database, store, load_settings(environ={}))
    for scheme in _hashes():
        with pytest.raises(LoginFailed):
            accounts.authenticate(f"old_{scheme}", "wrong-password-1", "natural", "198.51.100.1")
        user = accounts.authenticate(f"old_{scheme}", PASSWORD, "natural", "198.51.100.1")
        with database.transaction() as session:
            stored = session.get(User, user.id)
            assert stored is not None
            assert stored.legacy_hash_scheme is None
            assert (stored.password_hash or "").startswith("$argon2id$")
            assert stored.realname_status == "unverified"
        # The new hash works; the old one is gone.
        accounts.authenticate(f"old_{scheme}", PASSWORD, "natural", "198.51.100.1")
    with database.transaction() as session:
        withid = session.query(User).filter_by(username_key="old_withid").one()
        profile = session.get(PersonProfile, withid.id)
        assert profile is not None and codec.open_number(profile.id_number_enc) == "31010419900308206X"
        assert "31010419900308206X" not in (profile.id_number_enc or "")


def test_rerun_is_idempotent(database: Database, codec: IdentityCodec) -> None:
    data = _csv([f"legacy1,{_hashes()['md5']},md5,甲,,,"])
    assert import_legacy(database, codec, data, dry_run=False, actor="t").imported == ["legacy1"]
    again = import_legacy(database, codec, data, dry_run=False, actor="t")
    assert again.imported == [] and [s[1] for s in again.skipped] == ["legacy1"]


def test_dry_run_writes_nothing(database: Database, codec: IdentityCodec) -> None:
    data = _csv([f"legacy2,{_hashes()['sha1']},sha1,乙,,,"])
    assert import_legacy(database, codec, data, dry_run=True, actor="t").imported == ["legacy2"]
    with database.transaction() as session:
        assert session.query(User).count() == 0


@pytest.mark.parametrize(
    "row,reason",
    [
        ("ab,{md5},md5,x,,,", "username"),
        ("legacy3,zzz,md5,x,,,", "password hash"),
        ("legacy4,{md5},rot13,x,,,", "password hash"),
        ("legacy5,{md5},md5,x,not-a-phone!,,", "mobile"),
        ("legacy6,{md5},md5,x,,not-an-email,", "email"),
        ("legacy7,{md5},md5,x,,,110101199001011234", "id_number"),
        ("legacy8,{md5},md5", "columns"),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_imported(
    database: Database, codec: IdentityCodec, row: str, reason: str
) -> None:
    good = f"goodrow,{_hashes()['md5']},md5,好,,,"
    report = import_legacy(
        database, codec, _csv([good, row.format(md5=_hashes()["md5"])]), dry_run=False, actor="t"
    )
    assert len(report.rejected) == 1 and reason in report.rejected[0][2]
    with database.transaction() as session:
        assert session.query(User).count() == 0


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe not utf-8",
        b"user,pass\nx,y\n",
        b"",
        (b"username,password_hash,hash_scheme,name,mobile,email,secret\n"),
        b'username,"unterminated\n',
    ],
)
def test_unreadable_files_import_nothing(database: Database, codec: IdentityCodec, data: bytes) -> None:
    with pytest.raises(InvalidInput):
        import_legacy(database, codec, data, dry_run=False, actor="t")
    with database.transaction() as session:
        assert session.query(User).count() == 0
