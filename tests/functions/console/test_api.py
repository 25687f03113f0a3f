"""The console function through its entry points: the page, its files and errors, each with the
security headers; the redirect to /console/; revalidation; both deploy targets."""

from __future__ import annotations

import base64
import gzip
import importlib

import functions_framework
import pytest

from functions.console.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from shared.http import Request, Response
from tests.support.host import ROOT

console = importlib.import_module("functions.console.main")


def _get(path: str, **headers: str) -> Response:
    return console.app(Request("GET", path, headers=headers))


def _secured(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name


def test_the_page_is_served_at_console_slash_with_the_security_headers() -> None:
    page = _get("/console/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="app.js"></script>' in page.body
    assert page.headers["cache-control"] == "no-cache" and page.headers["etag"]
    _secured(page)


def test_the_csp_is_strict() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert SECURITY_HEADERS["x-frame-options"] == "DENY"


def test_console_without_a_slash_is_sent_to_console_slash() -> None:
    answer = _get("/console")
    assert answer.status == 308
    assert answer.headers["location"] == "console/"  # relative: works behind a path prefix
    _secured(answer)


def test_files_are_served_with_their_type_and_gzip_when_asked() -> None:
    app = _get("/console/app.js", **{"accept-encoding": "gzip, br"})
    assert app.status == 200
    assert app.headers["content-type"] == "text/javascript; charset=utf-8"
    assert app.headers["content-encoding"] == "gzip"
    assert app.headers["vary"] == "accept-encoding"
    assert b"render(" in gzip.decompress(app.body)
    library = _get("/console/vendor/preact.mjs")
    assert library.status == 200 and "content-encoding" not in library.headers
    assert library.headers["content-type"] == "text/javascript; charset=utf-8"
    _secured(library)


def test_an_unchanged_file_is_a_304() -> None:
    etag = _get("/console/style.css").headers["etag"]
    again = _get("/console/style.css", **{"if-none-match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    ["/console/nothing.js", "/console/vendor/README.md", "/console/vendor/update.sh",
     "/console/vendor/LICENSE-preact", "/console/vendor", "/console/%2e%2e%2fmain.py"],
)  # fmt: skip
def test_other_names_are_404_json_errors_with_the_security_headers(path: str) -> None:
    answer = _get(path)
    assert answer.status == 404
    assert answer.json()["error"]["code"] == "not_found"
    _secured(answer)


def test_other_methods_are_405_with_the_security_headers() -> None:
    answer = console.app(Request("POST", "/console/app.js", body=b"x"))
    assert answer.status == 405 and answer.headers["allow"] == "GET"
    _secured(answer)


def test_openwhisk_serves_text_uncompressed() -> None:
    """A web action returns text as text: asked for gzip, it still answers the plain file."""
    result = console.main(
        {"__ow_method": "get", "__ow_path": "/console/app.js",
         "__ow_headers": {"accept-encoding": "gzip"}}
    )  # fmt: skip
    assert result["statusCode"] == 200
    assert "content-encoding" not in result["headers"]
    assert "render(" in result["body"]
    assert result["headers"]["content-security-policy"] == CONTENT_SECURITY_POLICY
    icon = console.main({"__ow_method": "get", "__ow_path": "/console/icon.svg"})
    assert base64.b64decode(icon["body"]).startswith(b"<svg")  # not text/*: base64


def test_functions_framework_serves_the_page_and_gzip() -> None:
    source = str(ROOT / "functions/console/main.py")
    client = functions_framework.create_app("http", source, "http").test_client()
    page = client.get("/console/")
    assert page.status_code == 200 and b"app.js" in page.data
    assert page.headers["x-frame-options"] == "DENY"
    packed = client.get("/console/app.js", headers={"accept-encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert b"render(" in gzip.decompress(packed.data)
