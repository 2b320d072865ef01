"""What the views hand to services: settings, the database and the short-lived store.

Services take these as arguments and never import Flask; views fetch them with :func:`services`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from idp.config import Settings
from idp.db import Database
from idp.store import EphemeralStore


@dataclass
class Services:
    settings: Settings
    db: Database
    store: EphemeralStore
    #: Domain objects built once per process (key set, OAuth server...), by name.
    extras: dict[str, Any] = field(default_factory=dict)


def services() -> Services:
    svc: Services = current_app.extensions["idp"]
    return svc
