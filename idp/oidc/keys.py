"""Signing keys: generation, encryption at rest, rotation, and the per-process key ring.

Rotation keeps three states. ``next`` keys are published in the JWKS before they sign anything,
so relying parties that cache the JWKS already know them; ``active`` keys sign; ``retired`` keys
stay published until every token they signed has expired, then drop out.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from idp.config import Settings
from idp.crypto import FieldCipher, Keyring
from idp.db import Database, utcnow
from idp.errors import ConfigError, InvalidInput
from idp.oidc.models import SigningKey

log = logging.getLogger(__name__)

#: The one place where the signing algorithms are chosen (SM2 would be added here).
SIGNING_ALGS = ("RS256", "ES256")
KEY_FIELD = "signing_key.private"
RING_REFRESH_SECONDS = 30.0

AnyKey = RSAKey | ECKey


def _generate(alg: str, kid: str) -> AnyKey:
    params: Any = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    raise InvalidInput(f"unsupported signing algorithm {alg!r}; choose one of {', '.join(SIGNING_ALGS)}")


def _import_private(alg: str, kid: str, pem: bytes) -> AnyKey:
    params: Any = {"kid": kid, "alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.import_key(pem, parameters=params)
    return ECKey.import_key(pem, parameters=params)


class KeyService:
    """Creates and rotates signing keys in the database."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.cipher = FieldCipher(Keyring.from_settings(settings))

    def _new_row(self, alg: str, state: str) -> SigningKey:
        kid = f"{alg.lower()}-{utcnow():%Y%m%d}-{secrets.token_hex(4)}"
        key = _generate(alg, kid)
        pem = key.as_pem(private=True)
        now = utcnow()
        return SigningKey(
            kid=kid,
            alg=alg,
            state=state,
            private_encrypted=self.cipher.encrypt(pem.decode(), KEY_FIELD),
            public_jwk_json=json.dumps(key.as_dict(private=False), sort_keys=True),
            created_at=now,
            activated_at=now if state == "active" else None,
        )

    def ensure_initial_keys(self) -> None:
        """At start: refuse to run without an active key, unless generation is explicitly allowed."""
        with self.db.transaction() as session:
            active = set(session.scalars(select(SigningKey.alg).where(SigningKey.state == "active")))
            missing = [alg for alg in SIGNING_ALGS if alg not in active]
            if not missing:
                return
            if not self.settings.generate_keys:
                raise ConfigError(
                    f"no active signing key for {', '.join(missing)}: run `idp keys rotate --alg ALG` first"
                )
            for alg in missing:
                row = self._new_row(alg, "active")
                session.add(row)
                log.warning("generated first signing key %s (%s): embedded first start", row.kid, alg)

    def rotate(self, alg: str) -> tuple[str, str]:
        """Make the published ``next`` key (or a new one) active, retire the old one, stage a new next.

        Returns (new active kid, new next kid).
        """
        if alg not in SIGNING_ALGS:
            raise InvalidInput(
                f"unsupported signing algorithm {alg!r}; choose one of {', '.join(SIGNING_ALGS)}"
            )
        lifetime = max(self.settings.access_token_ttl, self.settings.id_token_ttl) + RING_REFRESH_SECONDS
        with self.db.transaction() as session:
            now = utcnow()
            rows = list(session.scalars(select(SigningKey).where(SigningKey.alg == alg).with_for_update()))
            for row in rows:
                if row.state == "active":
                    row.state = "retired"
                    row.publish_until = now + timedelta(seconds=lifetime)
            staged = [r for r in rows if r.state == "next"]
            if staged:
                new_active = staged[0]
                new_active.state = "active"
                new_active.activated_at = now
            else:
                new_active = self._new_row(alg, "active")
                session.add(new_active)
            upcoming = self._new_row(alg, "next")
            session.add(upcoming)
            self._purge_expired(session)
            return new_active.kid, upcoming.kid

    def _purge_expired(self, session: Session) -> None:
        now = utcnow()
        for row in session.scalars(select(SigningKey).where(SigningKey.state == "retired")):
            if row.publish_until is not None and row.publish_until < now:
                session.delete(row)

    def list_keys(self) -> list[SigningKey]:
        with self.db.transaction() as session:
            return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


@dataclass(frozen=True)
class KeySnapshot:
    signing: dict[str, AnyKey]
    verify: KeySet
    jwks_json: bytes
    loaded_at: float


class KeyRing:
    """The keys one process signs and verifies with, reloaded from the database every few seconds."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.cipher = FieldCipher(Keyring.from_settings(settings))
        self._lock = threading.Lock()
        self._snap: KeySnapshot | None = None

    def snapshot(self) -> KeySnapshot:
        snap = self._snap
        if snap is None or time.monotonic() - snap.loaded_at > RING_REFRESH_SECONDS:
            with self._lock:
                snap = self._snap
                if snap is None or time.monotonic() - snap.loaded_at > RING_REFRESH_SECONDS:
                    snap = self._load()
                    self._snap = snap
        return snap

    def invalidate(self) -> None:
        self._snap = None

    def signing_key(self, alg: str) -> AnyKey:
        try:
            return self.snapshot().signing[alg]
        except KeyError:
            raise ConfigError(f"no active {alg} signing key") from None

    def verify_keys(self) -> KeySet:
        return self.snapshot().verify

    def _load(self) -> KeySnapshot:
        now = utcnow()
        signing: dict[str, AnyKey] = {}
        public: list[dict[str, Any]] = []
        with self.db.transaction() as session:
            rows = list(session.scalars(select(SigningKey).order_by(SigningKey.created_at.desc())))
        for row in rows:
            if row.state == "retired" and row.publish_until is not None and row.publish_until < now:
                continue
            public.append(json.loads(row.public_jwk_json))
            if row.state == "active" and row.alg not in signing:
                pem = self.cipher.decrypt(row.private_encrypted, KEY_FIELD).encode()
                signing[row.alg] = _import_private(row.alg, row.kid, pem)
        if not signing:
            raise ConfigError("no active signing key in the database")
        verify = KeySet.import_key_set({"keys": public})
        body = json.dumps({"keys": public}, separators=(",", ":")).encode()
        return KeySnapshot(signing=signing, verify=verify, jwks_json=body, loaded_at=time.monotonic())
