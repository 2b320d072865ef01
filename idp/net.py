"""Guards for outgoing HTTP calls the IdP makes (verification source, back-channel logout, client JWKS).

SECURITY.md: any outgoing call refuses private, loopback and link-local addresses unless an operator
allows them, so that a URL someone else controls cannot turn the IdP into a proxy into the internal
network (server-side request forgery). The embedded development default allows them
(``Settings.allow_private_egress``) so the demo's services on 127.0.0.1 work.

The check resolves the host name and judges every address it resolves to. A name that resolves to a
public address now and a private one a moment later (DNS rebinding) is not fully covered by a check
made before the request; callers keep their timeouts short and never follow redirects, so a refused
address cannot be reached through a redirect either.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from idp.errors import InvalidInput

ALLOWED_SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressRefused(InvalidInput):
    """An outgoing URL is malformed or points at an address the IdP must not call."""

    def __init__(self, detail: str) -> None:
        super().__init__("目标地址不允许访问。 The target address is not allowed.", detail)


@dataclass(frozen=True)
class EgressTarget:
    """A URL that passed :func:`check_egress_url`, with the addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def is_internal_address(address: IPAddress) -> bool:
    """True for addresses that are not on the public internet (private, loopback, link-local...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; judge the embedded IPv4 address.
        return is_internal_address(address.ipv4_mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return (literal,)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise EgressRefused(f"cannot resolve host {host!r}: {exc.__class__.__name__}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # Scoped IPv6 addresses come back as "fe80::1%eth0"; the scope does not change the verdict.
        text = str(sockaddr[0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressRefused(f"host {host!r} resolved to no address")
    return tuple(addresses)


def check_egress_url(url: str, allow_private: bool) -> EgressTarget:
    """Accept ``url`` for an outgoing call or raise :class:`EgressRefused`.

    The URL must be absolute http(s) with a host and without user information. Unless
    ``allow_private`` is true, every address the host resolves to must be public.
    """
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise EgressRefused("URL missing or longer than 2048 characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        raise EgressRefused("URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"URL cannot be parsed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise EgressRefused(f"scheme {parts.scheme!r} is not http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        # user@host URLs are a classic way to make a URL look like it goes somewhere else.
        raise EgressRefused("URL carries user information")
    host = parts.hostname
    if not host:
        raise EgressRefused("URL has no host")
    if port is None:
        port = 443 if scheme == "https" else 80
    addresses = _resolve(host, port)
    if not allow_private:
        internal = [str(a) for a in addresses if is_internal_address(a)]
        if internal:
            raise EgressRefused(f"host {host!r} resolves to non-public address(es) {', '.join(internal)}")
    return EgressTarget(url=url, scheme=scheme, host=host, port=port, addresses=addresses)
