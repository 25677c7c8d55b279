"""An event's major version, read from its `dataschema` (docs/events.md, issue 13 "versioned events").

The agreed form is a URI ending in `/v{n}.json`; the legacy `airside:<type>:<n>` and a missing
dataschema are version 1. Anything else is refused: no retry makes it readable.
"""

from __future__ import annotations

import re

from airside.messaging.envelope import EventRefused

_URI = re.compile(r"/v(\d+)\.json$")
_LEGACY = re.compile(r"^airside:[^:]+:(\d+)$")


def event_version(dataschema: str | None) -> int:
    """The major version an event's dataschema names."""
    if dataschema is None:
        return 1
    match = _URI.search(dataschema) or _LEGACY.match(dataschema)
    if match is None:
        raise EventRefused(f"dataschema {dataschema!r} names no version (expected .../v<n>.json)")
    return int(match.group(1))
