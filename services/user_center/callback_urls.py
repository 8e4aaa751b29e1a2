"""Which ``callbackUrl`` a user may give: the bank sends the user's browser there after its page.

A URL is allowed when its text starts with one of ``CALLBACK_URL_PREFIXES`` *and* its parsed
components agree: the same scheme, host and port, no user-info, a path inside the prefix's path.
The text test alone is not enough (``http://127.0.0.1:8001@evil.com/`` and
``http://127.0.0.1:8001.evil.com/`` start with ``http://127.0.0.1:8001``), and browsers read more
than one parser does: they drop tabs and newlines, turn ``\\`` into ``/`` and resolve ``..`` and
``%2e%2e``. So only RFC 3986 characters are accepted (no whitespace, control characters,
backslashes or raw non-ASCII), the authority must be a plain ``host[:port]``, and no path segment
may be empty (``//``) or a dot segment, encoded or not.
"""
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_AUTHORITY = re.compile(r"(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")


@dataclass(frozen=True)
class Place:
    """Where a URL leads, in the components a browser uses: scheme, host, port, path."""

    scheme: str
    host: str
    port: int
    path: str


@dataclass(frozen=True)
class Prefix:
    """One allowed prefix: its text and the place it names."""

    text: str
    place: Place


def place_of(url: str) -> Place | None:
    """The components of an absolute http(s) URL, or ``None`` when a browser might read it otherwise."""
    if not _URL_CHARACTERS.fullmatch(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    authority = _AUTHORITY.fullmatch(parts.netloc)
    if scheme not in DEFAULT_PORTS or authority is None or not url.lower().startswith(scheme + "://"):
        return None
    port = int(authority["port"]) if authority["port"] else DEFAULT_PORTS[scheme]
    path = parts.path or "/"
    if not 0 < port < 65536 or not _plain_path(path):
        return None
    return Place(scheme, authority["host"].lower(), port, path)


def _plain_path(path: str) -> bool:
    """An absolute path without empty segments and without dot segments, even percent-encoded."""
    segments = path.split("/")
    if segments[0] != "":
        return False
    for index, segment in enumerate(segments[1:], start=1):
        decoded = unquote(segment)
        if segment == "" and index != len(segments) - 1:
            return False
        if decoded in (".", "..") or "/" in decoded or "\\" in decoded:
            return False
    return True


def parse_prefixes(prefixes: str | tuple[str, ...] | list[str]) -> tuple[Prefix, ...]:
    """The configured prefixes (comma-separated text or a sequence); ValueError for a bad or missing one."""
    if isinstance(prefixes, str):
        prefixes = prefixes.split(",")
    rules = []
    for raw in (text.strip() for text in prefixes):
        if not raw:
            continue
        place = place_of(raw)
        if place is None or "?" in raw or "#" in raw:
            raise ValueError(f"CALLBACK_URL_PREFIXES: {raw!r} is not an http(s) URL of a host and path")
        text = raw if urlsplit(raw).path else raw + "/"
        rules.append(Prefix(text, place))
    if not rules:
        raise ValueError("CALLBACK_URL_PREFIXES names no prefix: give the frontend's origin, e.g. https://example.com/")
    return tuple(rules)


def _inside(path: str, prefix_path: str) -> bool:
    return path.startswith(prefix_path if prefix_path.endswith("/") else prefix_path + "/") or path == prefix_path


def allowed(url: str, rules: tuple[Prefix, ...]) -> bool:
    """True when ``url`` starts with a prefix's text and leads where that prefix does."""
    place = place_of(url)
    if place is None:
        return False
    return any(url.startswith(rule.text) and place.scheme == rule.place.scheme and place.host == rule.place.host
               and place.port == rule.place.port and _inside(place.path, rule.place.path) for rule in rules)


# What may follow a prefix in the documented pattern: path segments of unreserved and sub-delimiter
# characters (never "%", never only dots), then a query and a fragment of the same and "/" and "?".
_SEGMENT_CHARACTER = r"[A-Za-z0-9\-_~!$&'()*+,;=:@]"
_SEGMENT = rf"[A-Za-z0-9\-._~!$&'()*+,;=:@]*{_SEGMENT_CHARACTER}[A-Za-z0-9\-._~!$&'()*+,;=:@]*"
_PATH = rf"{_SEGMENT}(?:/{_SEGMENT})*/?"
_QUERY_CHARACTER = r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?]"
_TAIL = rf"(?:\?{_QUERY_CHARACTER}*)?(?:#{_QUERY_CHARACTER}*)?"


def _literal(text: str) -> str:
    """``text`` as a regular expression literal valid in Python and ECMAScript alike."""
    return re.sub(r"[.^$*+?()\[\]{}|\\]", lambda special: "\\" + special.group(), text)


def documented_pattern(rules: tuple[Prefix, ...]) -> str:
    """A regular expression for the OpenAPI document: only URLs that :func:`allowed` accepts (a prefix, then
    plain path segments, a query and a fragment), so that a client generated from the document sends
    an accepted callbackUrl. It leaves out what the rule also accepts (percent-escapes, ``[``, ``]``)."""
    shapes = [_literal(rule.text) + (f"(?:{_PATH})?" if rule.text.endswith("/") else f"(?:/(?:{_PATH})?)?")
              for rule in rules]
    return f"^(?:{'|'.join(shapes)}){_TAIL}$"
