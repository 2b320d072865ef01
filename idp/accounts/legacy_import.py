"""Import of the old training system's accounts from CSV, keeping their old password hashes.

File: UTF-8 (a BOM is accepted), header ``username,password_hash,hash_scheme,name,mobile,email`` and
an optional ``id_number`` column. Each row is validated; rows already present are skipped, so a
re-run changes nothing; invalid rows are reported with their reason. Every accepted row is written
in ONE transaction, and only when no row is rejected: a bad file imports nothing, so a corrected
file can simply be imported again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select

from idp.accounts.legacy_hashes import LegacyHashError, check_legacy_hash
from idp.accounts.models import AccountType, User, username_key
from idp.accounts.services import EMAIL_PATTERN, PHONE_PATTERN, USERNAME_PATTERN
from idp.audit.services import record
from idp.db import Database, utcnow
from idp.errors import InvalidInput
from idp.realname.identity import IdentityCodec
from idp.realname.idnumber import validate_resident_id
from idp.realname.models import PersonProfile
from idp.realname.reference import DocumentType, RegionType

REQUIRED = ["username", "password_hash", "hash_scheme", "name", "mobile", "email"]
OPTIONAL = ["id_number"]
MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    username: str
    password_hash: str
    scheme: str
    name: str | None
    mobile: str | None
    email: str | None
    id_number: str | None


def read_rows(data: bytes) -> tuple[list[_Row], ImportReport]:
    """Parse and validate the whole file before anything is written."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"file larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the file is not UTF-8 (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or [h.strip() for h in header][: len(REQUIRED)] != REQUIRED:
            raise InvalidInput("the header must be: " + ",".join(REQUIRED) + "[,id_number]")
        extra = [h.strip() for h in header][len(REQUIRED) :]
        if extra not in ([], OPTIONAL):
            raise InvalidInput("unknown columns: " + ",".join(extra))
        report = ImportReport()
        rows: list[_Row] = []
        seen: set[str] = set()
        for record_ in reader:
            line = reader.line_num
            if len(rows) + len(report.rejected) >= MAX_ROWS:
                raise InvalidInput(f"more than {MAX_ROWS} rows")
            if not any(cell.strip() for cell in record_):
                continue
            if len(record_) != len(header):
                report.rejected.append((line, "?", f"{len(record_)} columns instead of {len(header)}"))
                continue
            values = dict(zip([h.strip() for h in header], (c.strip() for c in record_), strict=True))
            problem, row = _validate(line, values)
            if problem:
                report.rejected.append((line, values.get("username", "")[:32], problem))
            elif row is not None:
                key = username_key(row.username)
                if key in seen:
                    report.rejected.append((line, row.username, "duplicate username in the file"))
                    continue
                seen.add(key)
                rows.append(row)
    except csv.Error as exc:
        raise InvalidInput(f"malformed CSV near line {reader.line_num}: {exc}") from None
    return rows, report


def _validate(line: int, v: dict[str, str]) -> tuple[str | None, _Row | None]:
    username = v["username"]
    if not USERNAME_PATTERN.fullmatch(username):
        return "username: letters, digits or _, 4-32 characters", None
    scheme = v["hash_scheme"]
    try:
        stored = check_legacy_hash(scheme, v["password_hash"])
    except LegacyHashError as exc:
        return f"password hash: {exc.detail}", None
    mobile = v["mobile"] or None
    if mobile and not PHONE_PATTERN.fullmatch(mobile):
        return "mobile: not a phone number", None
    email = v["email"] or None
    if email and (len(email) > 254 or not EMAIL_PATTERN.fullmatch(email)):
        return "email: not an email address", None
    name = v["name"] or None
    if name and (len(name) > 100 or any(ord(c) < 32 for c in name)):
        return "name: too long or control characters", None
    number = v.get("id_number") or None
    if number:
        try:
            number = validate_resident_id(number).number
        except InvalidInput as exc:
            return f"id_number: {exc.detail}", None
    return None, _Row(line, username, stored, scheme, name, mobile, email, number)


def import_legacy(db: Database, codec: IdentityCodec, data: bytes, dry_run: bool, actor: str) -> ImportReport:
    rows, report = read_rows(data)
    dry_run = dry_run or bool(report.rejected)
    with db.transaction() as session:
        existing = set(
            session.scalars(
                select(User.username_key).where(
                    User.username_key.in_([username_key(r.username) for r in rows])
                )
            )
        )
        for row in rows:
            if username_key(row.username) in existing:
                report.skipped.append((row.line, row.username, "already exists"))
                continue
            report.imported.append(row.username)
            if dry_run:
                continue
            now = utcnow()
            user = User(
                username=row.username,
                username_key=username_key(row.username),
                password_hash=row.password_hash,
                legacy_hash_scheme=row.scheme,
                account_type=AccountType.NATURAL.value,
                name=row.name,
                email=row.email,
                phone_number=row.mobile,
                created_at=now,
                updated_at=now,
            )
            session.add(user)
            session.flush()
            if row.id_number:
                enc, index = codec.seal_number(row.id_number)
                session.add(
                    PersonProfile(
                        user_id=user.id,
                        region_type=RegionType.MAINLAND.value,
                        document_type=DocumentType.RESIDENT_ID.value,
                        id_number_enc=enc,
                        id_number_index=index,
                    )
                )
        if not dry_run:
            record(
                session,
                event="account.legacy_import",
                actor=actor,
                ip=None,
                request_id=None,
                imported=len(report.imported),
                skipped=len(report.skipped),
                rejected=len(report.rejected),
            )
    return report
