"""The console's core: which files it serves, their types and validators, gzip negotiation and
answers for a client that holds the current version."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from functions.console.service import Asset, Catalogue, accepts_gzip
from shared.errors import NotFound


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    static, vendor = tmp_path / "static", tmp_path / "vendor"
    (static / "nested").mkdir(parents=True)
    vendor.mkdir()
    (static / "index.html").write_text("<!doctype html><title>x</title>")
    (static / "app.js").write_text("export const answer = 42;\n" * 100)
    (static / "style.css").write_text("body { margin: 0 }\n")
    (static / "icon.svg").write_text("<svg/>")
    (static / "README.md").write_text("not served")
    (static / "nested" / "deep.js").write_text("not served either")
    (vendor / "lib.mjs").write_text("export default 1;\n")
    (vendor / "LICENSE-lib").write_text("MIT")
    (vendor / "update.sh").write_text("#!/bin/sh")
    return static, vendor


def test_only_servable_files_of_the_two_folders_are_catalogued(
    folders: tuple[Path, Path],
) -> None:
    catalogue = Catalogue.load(*folders)
    assert sorted(catalogue) == ["app.js", "icon.svg", "index.html", "style.css", "vendor/lib.mjs"]
    assert catalogue["index.html"].content_type == "text/html; charset=utf-8"
    assert catalogue["app.js"].content_type == "text/javascript; charset=utf-8"
    assert catalogue["vendor/lib.mjs"].content_type == "text/javascript; charset=utf-8"
    assert catalogue["style.css"].content_type == "text/css; charset=utf-8"
    assert catalogue["icon.svg"].content_type == "image/svg+xml"


def test_a_console_without_its_page_does_not_load(folders: tuple[Path, Path]) -> None:
    (folders[0] / "index.html").unlink()
    with pytest.raises(FileNotFoundError, match=r"index\.html"):
        Catalogue.load(*folders)


@pytest.mark.parametrize("name", ["README.md", "nested/deep.js", "vendor/update.sh", "../x", ""])
def test_anything_else_is_not_found(folders: tuple[Path, Path], name: str) -> None:
    with pytest.raises(NotFound):
        Catalogue.load(*folders).deliver(name)


def test_gzip_only_when_the_client_takes_it_and_it_pays(folders: tuple[Path, Path]) -> None:
    catalogue = Catalogue.load(*folders)
    plain = catalogue.deliver("app.js")
    assert (plain.encoding, plain.body) == (None, catalogue["app.js"].body)
    packed = catalogue.deliver("app.js", accept_encoding="br, gzip;q=0.8")
    assert packed.encoding == "gzip"
    assert gzip.decompress(packed.body) == plain.body
    assert len(packed.body) < len(plain.body) // 10
    tiny = catalogue.deliver("style.css", accept_encoding="gzip")  # smaller than a gzip header pays
    assert (tiny.encoding, tiny.body) == (None, catalogue["style.css"].body)


def test_the_same_bytes_give_the_same_gzip_and_validator() -> None:
    one, two = Asset.of("a.js", b"x" * 4096, "t"), Asset.of("b.js", b"x" * 4096, "t")
    assert one.gzipped == two.gzipped and one.etag == two.etag  # no time stamp in the gzip
    assert one.etag != Asset.of("c.js", b"y" * 4096, "t").etag
    assert one.etag.startswith('"') and one.etag.endswith('"')


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.0", False),
        ("gzip;q=nonsense", False),
        ("br, deflate", False),
        ("identity", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding_is_read_as_http_says(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_a_client_holding_the_version_gets_nothing_again(folders: tuple[Path, Path]) -> None:
    catalogue = Catalogue.load(*folders)
    etag = catalogue["app.js"].etag
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        held = catalogue.deliver("app.js", accept_encoding="gzip", if_none_match=header)
        assert held.not_modified and held.body == b"", header
    stale = catalogue.deliver("app.js", if_none_match='"stale"')
    assert not stale.not_modified and stale.body
