"""Imports every domain's models so that ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

import importlib

DOMAIN_MODEL_MODULES = (
    "idp.store.embedded",
    "idp.accounts.models",
    "idp.oidc.models",
    "idp.audit.models",
    "idp.realname.models",
    "idp.orgs.models",
    "idp.catalogue.models",
)


def import_all_models() -> None:
    for name in DOMAIN_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # A domain not built yet has no models; any other missing module is a real error.
            if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
