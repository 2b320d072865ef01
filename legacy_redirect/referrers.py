"""Turn a ``Referer`` header into a host name, and into a metric label of bounded cardinality.

The label is a known host by name, ``self`` for this host, ``none`` when there is no usable
referrer and ``other`` for everything else, so a hostile ``Referer`` cannot create new time series.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_HOST_LENGTH = 253


def referrer_host(referer: str | None) -> str | None:
    """The lower-case host of an http(s) referrer, or None when absent or unparseable."""
    if not referer:
        return None
    try:
        parts = urlsplit(referer.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return host[:MAX_HOST_LENGTH]


class ReferrerLabeller:
    def __init__(self, known_hosts: frozenset[str], own_host: str) -> None:
        self._known = known_hosts
        self._own = own_host.lower()

    def label(self, referer: str | None) -> str:
        if not referer:
            return "none"
        host = referrer_host(referer)
        if host is None:
            return "other"
        if host == self._own:
            return "self"
        return host if host in self._known else "other"
