"""Which hosts onrecord fetches from: public addresses only, unless ONRECORD_ALLOW_PRIVATE_URLS says otherwise.

The app and the API fetch URLs their users type. Without this, `http://169.254.169.254/...` (a cloud's metadata
service), `http://127.0.0.1:8000/...` (the API itself) or a router's admin page would be fetched on their behalf.
Every address a host resolves to is checked, on each request and on each redirect hop (see fetch.py).

What remains: the name is resolved again when the connection is made, so a DNS server that answers differently
the second time (DNS rebinding) can still lead a fetch to a private address; pinning the checked address into
the connection would close that, and neither httpx nor yt-dlp offers a way to do it."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from onrecord.search.errors import SourceError

ALLOW_HINT = "set ONRECORD_ALLOW_PRIVATE_URLS=true to allow local and private addresses"
WEB_SCHEMES = ("http", "https")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(SourceError):
    """A URL onrecord will not fetch: its host is this machine, or on a private or otherwise non-public network."""


def check_url(url: str, allow_private: bool) -> None:
    """Raise UrlRefused, naming `url`, unless it is an http(s) URL whose host resolves only to public addresses
    (any host, when `allow_private`)."""
    reason = refusal(url, allow_private)
    if reason:
        raise UrlRefused(f"{url}: refused: {reason}")


def refusal(url: str, allow_private: bool, schemes: tuple[str, ...] = WEB_SCHEMES) -> str | None:
    """Why `url` may not be fetched ("127.0.0.1 is a loopback address (set ...)"), or None when it may."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:  # a malformed IPv6 literal or port
        return "not a valid URL"
    if parts.scheme.lower() not in schemes or not host:
        return f"only {' and '.join(schemes)} URLs with a host are fetched"
    if allow_private:
        return None
    literal = _literal(host)
    for address in [literal] if literal else resolve(host):
        kind = address_kind(address)
        if kind:
            said = f"{host} is" if literal else f"{host} resolves to {address},"
            return f"{said} {kind} ({ALLOW_HINT})"
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host: str) -> list[Address]:
    """The addresses `host` stands for. A host that does not resolve here gives none: nothing can connect to it,
    so the fetch fails on its own (and behind an HTTP proxy, the proxy resolves it)."""
    try:  # also turns the forms of an address that are not literals ("2130706433", "0x7f.1") into addresses
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]


_KINDS = (("is_loopback", "a loopback"), ("is_unspecified", "an unspecified"), ("is_link_local", "a link-local"),
          ("is_multicast", "a multicast"), ("is_private", "a private"), ("is_reserved", "a reserved"),
          ("is_site_local", "a site-local"))


def address_kind(address: Address) -> str | None:
    """"a loopback address", "a private address", ...; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for test, kind in _KINDS:
        if getattr(address, test, False):
            return f"{kind} address"
    return None if address.is_global else "a non-public address"  # e.g. 100.64.0.0/10, carrier-grade NAT


def private_allowed(setting: bool | None) -> bool:
    """`setting` when a caller was handed one; else the setting as this process's environment (or .env) gives
    it, for callers that build no Settings of their own."""
    if setting is not None:
        return setting
    from onrecord.search.config import Settings

    return Settings().allow_private_urls
