"""A tiny local HTTP/1.1 target for the harness: answers any request with a small JSON echo.

`/status/<code>` answers with that status; `/slow/<ms>` waits that long first.
"""

import json
import time
from http.server import BaseHTTPRequestHandler

import pytest

from tests.support.http_server import serving


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = self.path.strip("/").split("/")
        status = 200
        if len(parts) == 2 and parts[0] == "status":
            status = int(parts[1])
        if len(parts) == 2 and parts[0] == "slow":
            time.sleep(int(parts[1]) / 1000)
        data = json.dumps({"path": self.path, "length": len(body)}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def echo_server():
    """Base URL of an echo server on 127.0.0.1 (a free port), stopped after the test."""
    with serving(_Echo) as url:
        yield url
