"""Outbound HTTP to addresses users give (webhooks, remote models): loopback, private, link-local
(cloud metadata), multicast and other non-public addresses are refused, on every address the
host resolves to, and the connection is made to the address that was checked (so a DNS answer
that changes between the check and the connection cannot swap it). STRATUS_ALLOW_PRIVATE_TARGETS=1
allows them (the emulator sets it for local receivers and test servers; off in production)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared.settings import env_bool

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ALLOW_ENV",
    "Resolve",
    "TargetRefused",
    "allowed",
    "check_url",
    "client",
    "refusal",
    "resolve",
]

ALLOW_ENV = "STRATUS_ALLOW_PRIVATE_TARGETS"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], list[str]]  # host, port -> IP addresses


class TargetRefused(ValueError):
    """The URL's host is (or resolves to) an address outbound calls may not reach."""


def allowed(environ: Mapping[str, str]) -> bool:
    """Whether STRATUS_ALLOW_PRIVATE_TARGETS allows private targets (default no)."""
    return env_bool(environ, ALLOW_ENV, False)


def refusal(address: Address) -> str | None:
    """Why outbound calls may not reach `address` (None: a public address)."""
    mapped = getattr(address, "ipv4_mapped", None) or getattr(address, "sixtofour", None)
    if mapped is not None:
        return refusal(mapped)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "not a public address"
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal is itself), in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def _check(host: str, addresses: Iterable[str]) -> None:
    for text in addresses:
        why = refusal(ipaddress.ip_address(text.split("%", 1)[0]))
        if why is not None:
            shown = host if host == text else f"{host} resolves to {text},"
            raise TargetRefused(
                f"{shown} {why}: outbound calls may not reach it ({ALLOW_ENV}=1 allows it)"
            )


def check_url(url: str, *, lookup: Resolve = resolve) -> None:
    """TargetRefused when `url`'s host is or resolves to a refused address; a host that does not
    resolve now passes (it is checked again on every connection)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = lookup(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        return
    _check(host, addresses)


def _guarded_transport(lookup: Resolve) -> httpx.HTTPTransport:
    """httpx's transport whose connections resolve, check and pin through the guard (httpx and
    httpcore imported here, not on the cold-start path of the APIs that only call check_url)."""
    import httpcore
    import httpx

    class _GuardedBackend(httpcore.NetworkBackend):
        """httpcore's network backend that resolves the host itself, refuses it when any address is
        refused, and connects to the checked addresses only (in order, the next on failure)."""

        def __init__(self, lookup: Resolve) -> None:
            self._lookup = lookup
            self._inner = httpcore.SyncBackend()

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            try:
                addresses = self._lookup(host, port)
            except (OSError, UnicodeError) as exc:
                raise httpcore.ConnectError(f"{host}: {exc}") from None
            _check(host, addresses)
            failure: Exception = httpcore.ConnectError(f"{host} resolves to no address")
            for address in addresses:
                try:
                    return self._inner.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                    failure = exc
            raise failure

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            raise TargetRefused("outbound calls do not use unix sockets")

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    class _GuardedTransport(httpx.HTTPTransport):
        """httpx's transport on a connection pool whose connections go through `_GuardedBackend`
        (TLS still checks the certificate against the URL's host name)."""

        def __init__(self, lookup: Resolve) -> None:
            super().__init__()
            limits = httpx.Limits()
            self._pool = httpcore.ConnectionPool(
                ssl_context=httpx.create_ssl_context(),
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=_GuardedBackend(lookup),
            )

    return _GuardedTransport(lookup)


def client(*, allow_private: bool, lookup: Resolve = resolve) -> httpx.Client:
    """An httpx client for users' targets: guarded unless `allow_private` (no proxy from the
    environment either way: the address checked must be the one connected to)."""
    import httpx

    if allow_private:
        return httpx.Client(trust_env=False)
    return httpx.Client(transport=_guarded_transport(lookup), trust_env=False)
