"""The SSRF guard of webhooks: where a delivery may go.

Only ``http``/``https`` URLs, and only hosts whose every resolved address is public
(``ipaddress``'s ``is_global``: not loopback, link-local, RFC 1918, unique-local, CGNAT,
documentation, multicast, unspecified or reserved). IPv4-mapped IPv6 addresses are judged as the
IPv4 address they carry. An allow-list (``WEBHOOK_ALLOW_HOSTS``: host names, addresses or
networks) lets an operator permit a private target on purpose. The check runs at creation and
again before each delivery, against the addresses the delivery then connects to, so a name that
later resolves to a private address (DNS rebinding) is refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class UnsafeTarget(Exception):
    """The URL may not be delivered to; the message says why."""


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks a webhook may reach even though they are not public."""

    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, setting: str) -> AllowList:
        """Read ``WEBHOOK_ALLOW_HOSTS``: comma-separated names, addresses or CIDR networks."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for item in (p.strip().lower() for p in setting.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def permits(self, host: str, address: IPAddress | None = None) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        return address is not None and any(address in n for n in self.networks)


def _plain(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (and so a fair webhook target)."""
    plain = _plain(address)
    return plain.is_global and not plain.is_multicast


def split_target(url: str) -> tuple[str, str, int]:
    """Return (scheme, host, port) of an acceptable URL, or raise :class:`UnsafeTarget`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("only http and https URLs are allowed")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_addresses(host: str, addresses: list[IPAddress], allow: AllowList) -> None:
    """Raise :class:`UnsafeTarget` unless every address is public or allow-listed."""
    if not addresses:
        raise UnsafeTarget(f"{host} does not resolve")
    for address in addresses:
        if not (is_public(address) or allow.permits(host, _plain(address))):
            raise UnsafeTarget(f"{host} resolves to {address}, a private or reserved address")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (a literal address resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


async def checked_target(url: str, allow: AllowList) -> tuple[str, str, int, IPAddress]:
    """Resolve and check a URL; return (scheme, host, port, the address to connect to)."""
    scheme, host, port = split_target(url)
    addresses = await resolve(host, port)
    check_addresses(host, addresses, allow)
    return scheme, host, port, addresses[0]
