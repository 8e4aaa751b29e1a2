"""Reading user-center's one-time link page as its script does."""
import re

_HANDOFF = re.compile(r'<div id="handoff"[^>]*>')
_DATA = re.compile(r'data-([a-z-]+)="([^"]*)"')


def handoff_of(page: str) -> dict:
    """The data the link's last page hands to its script (``data-*`` attributes of ``#handoff``); {} when
    the page hands nothing over."""
    element = _HANDOFF.search(page)
    if element is None:
        return {}
    return dict(_DATA.findall(element.group(0)))
