"""Which provider base URLs the server may call (SSRF): free in personal mode, fenced otherwise.

In classroom and Spaces modes a base URL must be one of the provider presets' URLs, the lab's own
API (`LLMLAB_API_BASE`), or on the allowlist (`policy.url_allowlist`: full base URLs, `host:port`
or bare host names). Even a preset URL may not reach a private, loopback, link-local, reserved or
multicast address unless the allowlist names it: every address the host resolves to is checked.
`guarded_http_client()` repeats that check when the socket is opened (so a DNS answer that changes
after the check, "rebinding", is still refused) and never follows redirects.

    check_base_url("http://127.0.0.1:11434/v1", presets)   # LabError in classroom mode
"""
from __future__ import annotations

import ipaddress
import os
import socket
from typing import Iterable
from urllib.parse import urlsplit

from apps.errors import LabError
from apps.security import policy


def _norm(url: str) -> str:
    return (url or "").strip().rstrip("/").lower()


def _lab_base() -> str:
    return os.environ.get("LLMLAB_API_BASE", "http://127.0.0.1:7860/v1")


def _endpoint(url: str) -> str | None:
    """'host:port' of a URL (default port by scheme), lower-case; None if it has no host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return f"{parts.hostname}:{port}" if parts.hostname else None


def _allowlisted(host: str, port: int, allow: Iterable[str]) -> bool:
    """An allowlist entry is a base URL (its host:port is allowed), a host:port, or a bare host."""
    allowed = {_endpoint(a) if "://" in a else a.strip().lower() for a in allow}
    return host.lower() in allowed or f"{host.lower()}:{port}" in allowed


def forbidden_ip(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if getattr(addr, "ipv4_mapped", None):
        addr = addr.ipv4_mapped
    return (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved
            or addr.is_multicast or addr.is_unspecified)


def _literal_internal(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return forbidden_ip(host)
    except ValueError:  # a name, not an address
        return False


def resolve(host: str, port: int | None) -> list[str]:
    infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def check_host(url: str, host: str, port: int | None) -> list[str]:
    """Resolve `host` and refuse it if any address is internal. Returns the addresses."""
    try:
        ips = resolve(host, port)
    except (OSError, UnicodeError):
        raise LabError("security.url_unresolved", url=url, host=host) from None
    for ip in ips:
        if forbidden_ip(ip):
            raise LabError("security.url_private", url=url, ip=ip)
    return ips


def check_base_url(url: str, presets: Iterable[str | None], active: policy.Policy | None = None,
                   own: str | None = None) -> None:
    """Raise LabError unless the active policy lets the server call `url`. `own`: the lab's /v1 as
    the server reaches itself (from the request's socket, never from what a user typed)."""
    active = active or policy.current()
    if not active.restricted:
        return
    parts = urlsplit((url or "").strip())
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if parts.scheme not in ("http", "https") or not host:
        raise LabError("security.url_bad", url=url)
    endpoint_port = port or (443 if parts.scheme == "https" else 80)
    if _allowlisted(host, endpoint_port, active.url_allowlist) or _norm(url) in {_norm(_lab_base()), _norm(own or "")}:
        return
    if _norm(url) not in {_norm(p) for p in presets if p}:
        if _literal_internal(host):  # say what is wrong with it; never a DNS query for a foreign name
            raise LabError("security.url_private", url=url, ip=host)
        raise LabError("security.url_not_listed", url=url)
    check_host(url, host, port)


def guarded_http_client(timeout: float, own: str | None = None):
    """An httpx client for restricted modes: no redirects, and the address check again at connect.
    `own`: the lab's own /v1 (see check_base_url), which may be on loopback."""
    selves = {_endpoint(_lab_base()), _endpoint(own) if own else None} - {None}
    import httpcore
    import httpx

    class GuardedBackend(httpcore.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            if not _allowlisted(host, port, policy.current().url_allowlist) and \
                    f"{host}:{port}".lower() not in selves:
                host = check_host(f"{host}:{port}", host, port)[0]  # connect to the address checked
            return super().connect_tcp(host, port, timeout, local_address, socket_options)

    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    if hasattr(pool, "_network_backend"):  # httpx keeps its httpcore pool here (httpx 0.2x)
        pool._network_backend = GuardedBackend()
    return httpx.Client(transport=transport, follow_redirects=False, timeout=timeout)
