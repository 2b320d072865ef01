"""The deep-link map: known old paths of the training system and their new homes.

The map file has one ``old-path target`` pair per line (``#`` starts a comment). A target is a
name resolved from settings (``login``, ``platform``, ``notice``, ``instructions``) or an absolute
http(s) URL written in the file. Every ``Location`` the app sends is one of these resolved targets,
so neither the path, the query, ``Host`` nor any forwarding header can point a visitor elsewhere.

Old paths match case-insensitively, without a trailing slash and without ``;jsessionid=...``-style
path parameters, because the old server's links were written all three ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from legacy_redirect.config import ConfigError, Settings, url_problems

SHIPPED_MAP = Path(__file__).parent / "data" / "redirects.txt"
TARGET_NAMES = ("login", "platform", "notice", "instructions")
#: Paths this app answers itself; a map entry for one of them could never take effect.
OWN_PATHS = frozenset(
    {
        "/",
        "/robots.txt",
        "/favicon.ico",
        "/metrics",
        "/healthz",
        "/readyz",
        "/instructions",
        "/instructions/download",
    }
)
OWN_PREFIXES = ("/assets/",)


@dataclass(frozen=True)
class Redirect:
    old_path: str
    location: str


def normalise_path(path: str) -> str:
    """The form both map keys and request paths are compared in."""
    segments = path.split("/")
    segments[-1] = segments[-1].split(";", 1)[0]
    joined = "/".join(segments).lower()
    while len(joined) > 1 and joined.endswith("/"):
        joined = joined[:-1]
    return joined or "/"


def resolve_target(name_or_url: str, settings: Settings, shipped_instructions: str) -> str:
    """The absolute URL a target stands for; shipped_instructions is used when no URL is configured."""
    named = {
        "login": settings.login_url,
        "platform": settings.platform_url,
        "notice": settings.public_url + "/",
        "instructions": settings.instructions_url or shipped_instructions,
    }
    return named.get(name_or_url, name_or_url)


class RedirectMap:
    """Lookup of normalised old paths; built once at start, read-only afterwards."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = dict(entries)

    def lookup(self, path: str) -> Redirect | None:
        key = normalise_path(path)
        location = self._entries.get(key)
        return Redirect(key, location) if location is not None else None

    def items(self) -> list[tuple[str, str]]:
        return sorted(self._entries.items())

    def locations(self) -> frozenset[str]:
        return frozenset(self._entries.values())


def load_redirect_map(settings: Settings) -> RedirectMap:
    """Read and validate the map file named by ``LEGACY_REDIRECTS_FILE`` (or the shipped one)."""
    path = Path(settings.redirects_file) if settings.redirects_file else SHIPPED_MAP
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"LEGACY_REDIRECTS_FILE {path}: cannot read ({exc.__class__.__name__})") from exc
    return parse_redirect_map(text, settings, source=str(path))


def parse_redirect_map(text: str, settings: Settings, source: str = "map") -> RedirectMap:
    shipped_instructions = settings.public_url + "/instructions"
    entries: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        parts = line.split()
        if len(parts) != 2:
            problems.append(f"{where}: expected 'old-path target'")
            continue
        old, target = parts
        key = normalise_path(old)
        if not old.startswith("/") or "?" in old or any(ord(ch) < 0x20 for ch in old):
            problems.append(f"{where}: old path must start with / and hold no query")
        elif key in OWN_PATHS or key.startswith(OWN_PREFIXES):
            problems.append(f"{where}: {key} is answered by this app and cannot be redirected")
        elif key in entries:
            problems.append(f"{where}: {key} appears twice")
        elif target not in TARGET_NAMES and not target.startswith(("http://", "https://")):
            problems.append(f"{where}: target must be one of {', '.join(TARGET_NAMES)} or an http(s) URL")
        else:
            location = resolve_target(target, settings, shipped_instructions)
            url_errors = url_problems(f"{where} target", location, https_only=settings.production)
            if url_errors:
                problems += url_errors
            else:
                entries[key] = location
    if problems:
        raise ConfigError("deep-link map: " + "; ".join(problems))
    return RedirectMap(entries)
