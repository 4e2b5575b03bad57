"""Where a webhook may point, and a connection pinned to the address that was checked.

A webhook URL is typed by an admin and fetched by the server: without a check it could point at
the server's own network (a database, a cloud metadata service). `check_url` wants https (plain
http only to 127.0.0.1 / localhost, for tests), resolves the host and refuses private, loopback,
link-local, multicast, reserved and unspecified addresses unless ALLOW_PRIVATE_WEBHOOKS is set.
The connection then goes to the address checked (`PinnedHTTPSConnection`), not to whatever the
name resolves to a moment later (DNS rebinding), with the URL's host name for SNI, the
certificate and the Host header.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from ..errors import InvalidInput

LOCAL_HTTP_HOSTS = ("127.0.0.1", "localhost")


class Unresolvable(InvalidInput):
    """The host name does not resolve now: at send time that is worth a retry."""


@dataclass(frozen=True)
class Checked:
    url: SplitResult
    ip: str

    @property
    def host(self) -> str:
        return self.url.hostname or ""

    @property
    def port(self) -> int:
        return self.url.port or (443 if self.url.scheme == "https" else 80)

    @property
    def target(self) -> str:
        """The path and query to request."""
        return (self.url.path or "/") + (f"?{self.url.query}" if self.url.query else "")


def url_hint(url: str) -> str:
    """What is shown instead of the URL: its host and its last 4 characters."""
    host = urlsplit(url.strip()).hostname or "?"
    return f"{host}/…{url.strip()[-4:]}"


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for flag, words in (("is_unspecified", "unspecified"), ("is_loopback", "a loopback"),
                        ("is_link_local", "a link-local"), ("is_multicast", "a multicast"),
                        ("is_private", "a private"), ("is_reserved", "a reserved")):
        if getattr(address, flag):
            return words
    return None


def check_url(url: str, allow_private: bool) -> Checked:
    """The URL parsed and the IP to connect to; InvalidInput in words when it may not be used."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise InvalidInput("That is not a web address.") from None
    host = (parts.hostname or "").lower()
    scheme = parts.scheme.lower()
    if not host:
        raise InvalidInput("A webhook address looks like https://hooks.example.com/….")
    if scheme != "https" and not (scheme == "http" and host in LOCAL_HTTP_HOSTS):
        raise InvalidInput("A webhook address must start with https:// (the URL is a secret: never sent in clear).")
    if parts.username or parts.password:
        raise InvalidInput("A webhook address must not contain a user name or password.")
    try:
        found = socket.getaddrinfo(host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise Unresolvable(f"The host {host} cannot be found.") from None
    ips = [str(info[4][0]) for info in found]
    if not ips:
        raise Unresolvable(f"The host {host} cannot be found.")
    if not allow_private:
        for ip in ips:
            words = _refusal(ipaddress.ip_address(ip.split("%", 1)[0]))
            if words:
                raise InvalidInput(f"The host {host} is {words} address ({ip}): webhooks go only to the public "
                                   "internet (set ALLOW_PRIVATE_WEBHOOKS=1 to allow addresses inside your network).")
    return Checked(url=parts._replace(scheme=scheme), ip=ips[0])


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain http (loopback tests only), to the checked address."""

    def __init__(self, host: str, ip: str, port: int, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=connect_timeout)
        self.pinned_ip, self.read_timeout = ip, read_timeout

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(self.read_timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """https to the checked address, with the URL's host name for SNI and the certificate."""

    def __init__(self, host: str, ip: str, port: int, connect_timeout: float, read_timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, port, timeout=connect_timeout, context=context or ssl.create_default_context())
        self.pinned_ip, self.read_timeout = ip, read_timeout

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_ip, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]
        except BaseException:
            sock.close()
            raise
        self.sock.settimeout(self.read_timeout)
