"""The console's files as shipped: the vendored libraries are the pinned ones with their licences,
the page loads no inline script or style, our modules use no HTML-parsing sink or browser
storage, every import resolves to a served file, and the first load weighs at most 100 KiB
gzipped (what the function sends)."""

from __future__ import annotations

import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from functions.console.service import INDEX, Catalogue

ROOT = Path(__file__).resolve().parents[3] / "functions" / "console"
STATIC, VENDOR = ROOT / "static", ROOT / "vendor"
BUDGET = 100 * 1024  # bytes, gzipped: issue 14

# Pinned in vendor/README.md (and vendor/update.sh, which fetches them)
VENDORED = {
    "preact.mjs": "bdcbd9abdf2c77c5c45326eab42191e949222d479d0d5f69467387a77040cb55",
    "hooks.mjs": "427a330c992595bfd3f6cfe43eb6ba7a238ea1a7fa99c0e4a8f380a30dde473b",
    "htm.mjs": "ab33dd3f38059b9be4d5f5350128eefb2356639c4e0bbe9d9e8b3ba75847e9e4",
    "uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    "uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
}
LICENCES = {"LICENSE-preact": "MIT", "LICENSE-htm": "Apache License", "LICENSE-uplot": "MIT"}
_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}/[^"']+)["']""")
# What no module of ours may use: HTML parsed from strings (user data would become markup),
# code from strings, and browser storage (tokens live in memory only)
_FORBIDDEN = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|dangerouslySetInnerHTML|"
    r"\beval\(|new Function|localStorage|sessionStorage|document\.cookie|\sstyle="
)


class _Page(HTMLParser):
    """The files a page loads and anything inline in it."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.inline += [f"{tag} {n}" for n in found if n == "style" or n.startswith("on")]
        if tag == "style":
            self.inline.append("style element")
        if tag == "script":
            self._script = True
            if found.get("src"):
                self.loads.append(str(found["src"]))
            else:
                self.inline.append("script without src")
        if tag == "link" and found.get("href") and found.get("rel") in {"stylesheet", "icon"}:
            self.loads.append(str(found["href"]))

    def handle_endtag(self, tag: str) -> None:
        self._script = False if tag == "script" else self._script

    def handle_data(self, data: str) -> None:
        if self._script and data.strip():
            self.inline.append("script text")


def _page() -> _Page:
    page = _Page()
    page.feed((STATIC / INDEX).read_text(encoding="utf-8"))
    return page


def _first_load(catalogue: Catalogue) -> list[str]:
    """Every file the page loads at first: its scripts, styles and icon, and every module the
    scripts import, transitively (all imports are static)."""
    seen: list[str] = []
    queue = list(_page().loads)
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        assert name in catalogue, f"{name} is loaded but not served"
        seen.append(name)
        text = catalogue[name].body.decode("utf-8")
        base = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for target in _IMPORT.findall(text):
            parts = (base + target).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part not in {".", ""}:
                    resolved.append(part)
            queue.append("/".join(resolved))
    return seen


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load(STATIC, VENDOR)


def test_the_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    for name, digest in VENDORED.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
        assert digest in (VENDOR / "README.md").read_text(), name
    for name, words in LICENCES.items():
        assert words in (VENDOR / name).read_text(), name


def test_the_page_has_nothing_inline() -> None:
    page = _page()
    assert page.inline == []
    assert page.loads  # and it loads its scripts and styles from files


@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_our_modules_use_no_html_sink_eval_or_storage(path: Path) -> None:
    assert _FORBIDDEN.findall(path.read_text(encoding="utf-8")) == []


def test_every_import_resolves_and_every_module_is_used(catalogue: Catalogue) -> None:
    loaded = _first_load(catalogue)
    ours = {p.name for p in STATIC.glob("*.js")}
    assert ours <= set(loaded), f"modules nothing imports: {sorted(ours - set(loaded))}"


def test_the_first_load_is_at_most_100_kib_gzipped(catalogue: Catalogue) -> None:
    loaded = _first_load(catalogue)
    sent = {name: len(catalogue[name].gzipped or catalogue[name].body) for name in loaded}
    sent[INDEX] = len(catalogue[INDEX].gzipped or catalogue[INDEX].body)
    total = sum(sent.values())
    scripts_and_styles = sum(v for k, v in sent.items() if k.endswith((".js", ".mjs", ".css")))
    print(f"first load: {len(sent)} files, {total} bytes gzipped ({scripts_and_styles} JS + CSS)")
    assert scripts_and_styles <= total <= BUDGET, sent
