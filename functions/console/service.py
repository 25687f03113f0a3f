"""Core of the console function: the console's files, read once, each with its type, validator
and gzip form, and which form answers a request."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.errors import NotFound

__all__ = ["CONTENT_TYPES", "INDEX", "Asset", "Catalogue", "Delivery", "accepts_gzip"]

INDEX = "index.html"
# The only files served, by extension: anything else in the folders (README, licences, the
# vendoring script) is 404 like a name that does not exist
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_COMPRESS_ABOVE = 512  # bytes: a smaller file gains less from gzip than its header costs


@dataclass(frozen=True, slots=True)
class Asset:
    """One file of the console: its bytes, their gzip form (None when not worth it), its
    content type and a strong validator (the digest of the bytes)."""

    name: str
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str

    @classmethod
    def of(cls, name: str, body: bytes, content_type: str) -> Asset:
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        worth = len(body) > _COMPRESS_ABOVE and len(packed) < len(body)
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(name, body, packed if worth else None, content_type, f'"{digest}"')


@dataclass(frozen=True, slots=True)
class Delivery:
    """What answers one request for an asset: the bytes to send (empty when `not_modified`) and
    their content encoding ("gzip" or None)."""

    asset: Asset
    body: bytes
    encoding: str | None
    not_modified: bool


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an `accept-encoding` header admits gzip (`gzip` or `*` with a non-zero q)."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in {"gzip", "x-gzip", "*"}:
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class Catalogue(Mapping[str, Asset]):
    """The console's files by name: the page and its modules at the top (`index.html`,
    `app.js`), the libraries under `vendor/` (`vendor/preact.mjs`)."""

    def __init__(self, assets: Mapping[str, Asset]) -> None:
        self._assets = dict(assets)

    @classmethod
    def load(cls, static: Path, vendor: Path) -> Catalogue:
        """Read every servable file of the two folders (not their subfolders)."""
        assets: dict[str, Asset] = {}
        for folder, prefix in ((static, ""), (vendor, "vendor/")):
            for path in sorted(folder.iterdir()):
                content_type = CONTENT_TYPES.get(path.suffix)
                if content_type and path.is_file():
                    name = prefix + path.name
                    assets[name] = Asset.of(name, path.read_bytes(), content_type)
        if INDEX not in assets:
            raise FileNotFoundError(f"the console has no {INDEX} in {static}")
        return cls(assets)

    def __getitem__(self, name: str) -> Asset:
        return self._assets[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._assets)

    def __len__(self) -> int:
        return len(self._assets)

    def deliver(
        self, name: str, *, accept_encoding: str | None = None, if_none_match: str | None = None
    ) -> Delivery:
        """The answer for `name`: 304-style when the client holds this version, else the gzip
        form when the client takes it; NotFound for a name that is not a console file."""
        asset = self._assets.get(name)
        if asset is None:
            raise NotFound(f"the console has no file {name!r}")
        if _matches(if_none_match, asset.etag):
            return Delivery(asset, b"", None, True)
        if asset.gzipped is not None and accepts_gzip(accept_encoding):
            return Delivery(asset, asset.gzipped, "gzip", False)
        return Delivery(asset, asset.body, None, False)
