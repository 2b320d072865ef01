"""Settings of the verification-source simulator, from ``NATIONAL_SOURCE_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from national_source.register import DEFAULT_REGISTER

FAULTS = ("", "error", "garbage", "wrong_shape", "redirect")


class SourceConfigError(Exception):
    """A setting cannot work; the simulator refuses to start."""


@dataclass(frozen=True)
class SourceSettings:
    #: Path of the register JSON file (``NATIONAL_SOURCE_REGISTER``); defaults to the shipped one.
    register: str = str(DEFAULT_REGISTER)
    #: Bearer token callers must present (``NATIONAL_SOURCE_TOKEN``).
    token: str = "dev-source-token"  # noqa: S105 - the simulator's documented development token
    #: Seconds to wait before answering a verification, to simulate a slow source (``NATIONAL_SOURCE_DELAY``).
    delay: float = 0.0
    #: Simulated fault of every verification answer (``NATIONAL_SOURCE_FAULT``): ``error`` (HTTP 500),
    #: ``garbage`` (HTML instead of JSON), ``wrong_shape`` (JSON without the contract's fields),
    #: ``redirect`` (HTTP 302 elsewhere); empty for none.
    fault: str = ""
    #: The first N verifications of each worker answer HTTP 503 (``NATIONAL_SOURCE_FAIL_FIRST``),
    #: to exercise the client's retries.
    fail_first: int = 0

    def check(self) -> SourceSettings:
        if self.fault not in FAULTS:
            raise SourceConfigError(
                f"NATIONAL_SOURCE_FAULT must be one of {', '.join(repr(f) for f in FAULTS)}"
            )
        if not 0 <= self.delay <= 60:
            raise SourceConfigError("NATIONAL_SOURCE_DELAY must be between 0 and 60 seconds")
        if self.fail_first < 0:
            raise SourceConfigError("NATIONAL_SOURCE_FAIL_FIRST must not be negative")
        if not self.token:
            raise SourceConfigError("NATIONAL_SOURCE_TOKEN must not be empty")
        return self


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> SourceSettings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(SourceSettings):
        key = "NATIONAL_SOURCE_" + f.name.upper()
        if key not in env:
            continue
        raw = env[key]
        try:
            values[f.name] = float(raw) if f.type == "float" else int(raw) if f.type == "int" else raw
        except ValueError:
            raise SourceConfigError(f"{key} must be a number") from None
    settings = replace(SourceSettings(), **values)
    if overrides:
        settings = replace(settings, **dict(overrides))
    return settings.check()
