"""Resource names, document sort keys and field paths as Firestore spells and orders them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import invalid

__all__ = [
    "DocName",
    "check_reference",
    "database_of",
    "parse_doc_name",
    "parse_field_path",
    "parse_parent",
    "path_key",
    "prefix_upper_bound",
]

_NUMERIC_ID = re.compile(r"__id(-?\d+)__")
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class DocName:
    """A parsed document resource name."""

    name: str  # projects/P/databases/D/documents/c/d[/c/d...]
    database: str  # projects/P/databases/D
    parent: str  # projects/P/databases/D/documents[/c/d...]
    collection: str
    doc_id: str


def _check_database(parts: list[str], text: str) -> str:
    if len(parts) < 5 or parts[0] != "projects" or parts[2] != "databases" or not parts[1]:
        raise invalid(f"invalid resource name: {text!r}")
    if parts[4] != "documents":
        raise invalid(f"invalid resource name: {text!r}")
    return "/".join(parts[:4])


@functools.lru_cache(maxsize=65536)
def parse_doc_name(name: str) -> DocName:
    """Split `projects/P/databases/D/documents/c/d` into parts; INVALID_ARGUMENT if malformed."""
    parts = name.split("/")
    database = _check_database(parts, name)
    rest = parts[5:]
    if not rest or len(rest) % 2 or any(not s for s in rest):
        raise invalid(f"invalid document name: {name!r}")
    return DocName(name, database, "/".join(parts[:-2]), rest[-2], rest[-1])


@functools.lru_cache(maxsize=4096)
def parse_parent(parent: str) -> tuple[str, str]:
    """Check a query/list parent (the documents root or a document); return (database, parent)."""
    parts = parent.split("/")
    database = _check_database(parts, parent)
    rest = parts[5:]
    if len(rest) % 2 or any(not s for s in rest):
        raise invalid(f"invalid parent: {parent!r}")
    return database, parent


def check_reference(name: str) -> None:
    """INVALID_ARGUMENT unless a reference value names a document, as Google's emulator says."""
    if name.endswith("/"):
        raise invalid(f'Resource name "{name}" has invalid trailing "/".')
    parse_doc_name(name)


def database_of(name: str) -> str:
    """The `projects/P/databases/D` part of any resource name under a database."""
    return "/".join(name.split("/")[:4])


def _segment_key(segment: str) -> bytes:
    match = _NUMERIC_ID.fullmatch(segment)
    if match:
        number = int(match.group(1))
        if _INT64_MIN <= number <= _INT64_MAX:
            return b"\x01" + (number - _INT64_MIN).to_bytes(8, "big")
    raw = segment.encode("utf-8")
    if b"\x00" in raw or b"\x01" in raw:
        raw = raw.replace(b"\x01", b"\x01\x02").replace(b"\x00", b"\x01\x01")
    return b"\x02" + raw


@functools.lru_cache(maxsize=65536)
def path_key(name: str) -> bytes:
    """A byte string whose memcmp order is Firestore's segment-wise order of resource names.

    Segments compare one by one (so `a/b` sorts before `a-b/c`), numeric ids (`__id7__`) sort
    before string ids and numerically, and strings compare by their UTF-8 bytes.
    """
    return b"\x00".join(_segment_key(s) for s in name.split("/"))


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix` (for SQL ranges)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@functools.lru_cache(maxsize=16384)
def parse_field_path(path: str) -> tuple[str, ...]:
    """Split a field path such as a.b or `x.y`.z (backquoted, backslash escapes) into segments."""
    if not path:
        raise invalid("empty field path")
    segments: list[str] = []
    i, n = 0, len(path)
    while True:
        if i < n and path[i] == "`":
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise invalid(f"unterminated backquote in field path {path!r}")
                char = path[i]
                if char == "\\" and i + 1 < n:
                    chars.append(path[i + 1])
                    i += 2
                elif char == "`":
                    i += 1
                    break
                else:
                    chars.append(char)
                    i += 1
            segments.append("".join(chars))
        else:
            end = path.find(".", i)
            end = n if end < 0 else end
            segment = path[i:end]
            if not segment:
                raise invalid(f"invalid field path {path!r}")
            segments.append(segment)
            i = end
        if i == n:
            return tuple(segments)
        if path[i] != ".":
            raise invalid(f"invalid field path {path!r}")
        i += 1
