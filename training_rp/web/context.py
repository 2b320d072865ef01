"""What the views hand to services, built once per app; views fetch it with :func:`services`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from training_rp.config import Settings
from training_rp.crypto import IdNumberCipher
from training_rp.db import Database
from training_rp.oidc.client import Provider
from training_rp.oidc.state import LoginStateCache
from training_rp.services.accounts import AccountService
from training_rp.services.grants import GrantService
from training_rp.services.sessions import SessionStore
from training_rp.services.signin import SignInService


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: IdNumberCipher
    accounts: AccountService
    signin: SignInService
    sessions: SessionStore
    login_states: LoginStateCache
    provider: Provider
    grants: GrantService


def services() -> Services:
    svc: Services = current_app.extensions["training_rp"]
    return svc
