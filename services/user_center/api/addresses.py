"""Who is calling: the client address the login and registration limits count, and whether the browser
came over HTTPS (the device cookie's ``Secure``), as the socket and the trusted proxies tell.

See docs/user_center.md ("Client address"): with TRUSTED_PROXY_COUNT = n > 0 only the entry the
outermost trusted proxy appended is read; entries further left are the client's own words.
"""
import ipaddress

from flask import request

_MAX_ADDRESS_LENGTH = 64


def _forwarded(header: str, trusted_proxies: int) -> str | None:
    """The entry of a comma-separated forwarding header that the outermost trusted proxy wrote:
    the ``trusted_proxies``-th from the right (those further left are the client's own words)."""
    entries = [part.strip() for value in request.headers.getlist(header) for part in value.split(",") if part.strip()]
    return entries[-trusted_proxies] if 0 < trusted_proxies <= len(entries) else None


def client_address(trusted_proxies: int) -> str:
    """The caller's address as the limits count it.

    The socket peer, or with TRUSTED_PROXY_COUNT = n > 0 the X-Forwarded-For entry the outermost
    trusted proxy appended (n-th from the right; the peer when there are fewer). An IPv6 address
    counts as its /64 network, which one host or home usually holds whole.
    """
    address = _forwarded("X-Forwarded-For", trusted_proxies) or request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:_MAX_ADDRESS_LENGTH]
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def request_is_https(trusted_proxies: int) -> bool:
    """True when the browser reached us over HTTPS: directly, or as X-Forwarded-Proto of a trusted proxy says."""
    forwarded = _forwarded("X-Forwarded-Proto", trusted_proxies)
    return request.is_secure if forwarded is None else forwarded.lower() == "https"
