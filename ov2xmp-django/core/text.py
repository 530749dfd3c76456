"""Text the database can store.

PostgreSQL's text and JSON types hold no NUL character (U+0000), and psycopg
cannot encode an unpaired surrogate (U+D800 to U+DFFF) as UTF-8. Both are
valid in a JSON string (``\\u0000``, ``\\ud800``), so a charger's frame can
carry them, and one such string failed the whole batch it was written in.
"""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"


def may_hold_unstorable(frame: str) -> bool:
    """False where no string of ``frame`` (JSON text, or any text) can hold a
    character the database cannot store; True means: look (``unstorable_in``).
    A substring test, cheap enough for every frame."""
    return "\x00" in frame or "\\u0000" in frame or "\\ud" in frame or "\\uD" in frame


def unstorable_in(value: Any) -> bool:
    """Whether a string in ``value`` (a string, or lists and dicts of them, as
    JSON decodes) holds a character the database cannot store."""
    if isinstance(value, str):
        return not _is_storable(value)
    if isinstance(value, dict):
        return any(unstorable_in(key) or unstorable_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(unstorable_in(item) for item in value)
    return False


def storable(value: Any) -> Any:
    """``value`` with every such character in its strings (keys included)
    replaced by U+FFFD, the Unicode replacement character."""
    if isinstance(value, str):
        if _is_storable(value):
            return value
        return "".join(
            REPLACEMENT if char == "\x00" or "\ud800" <= char <= "\udfff" else char
            for char in value
        )
    if isinstance(value, dict):
        return {storable(key): storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable(item) for item in value]
    return value


def _is_storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate
        return False
    return True
