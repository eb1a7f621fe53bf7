"""Function names Gemini accepts, and the client's names restored (PROTOCOLS.md 5.4, 7.5).

``ToolNames`` (``gemini_names()``) fixes the character set and the length; a
Gemini name must also start with a letter or ``_``. A name that does not gets
one more ``_`` in front. The rule covers names already starting with ``_``
followed by a non-letter too (``_9x`` → ``__9x``), so exactly one leading
``_`` comes off on the way back and the mapping stays reversible without state.
"""

import re

from app.canonical.names import ToolNames

_NEEDS_PREFIX = re.compile(r"_*[^A-Za-z_]")
_PREFIXED = re.compile(r"_+[^A-Za-z_]")


def upstream_name(names: ToolNames, name: str) -> str:
    safe = names.outbound(name)
    return f"_{safe}" if _NEEDS_PREFIX.match(safe) else safe


def client_name(names: ToolNames, name: str) -> str:
    return names.inbound(name[1:] if _PREFIXED.match(name) else name)
