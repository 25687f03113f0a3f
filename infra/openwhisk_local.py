"""The OpenWhisk python:3.11 runtime's contract, run locally (tests/infra, `bench coldstart
--target openwhisk`; try a zip without a cluster): the action loop proxy's `POST /init`
and `POST /run` (apache/openwhisk-runtime-go `openwhisk/initHandler.go`, `runHandler.go`,
`executor.go`) and the Python launcher and compile step (apache/openwhisk-runtime-python
`core/python3Action/lib/launcher.py`, `bin/compile`), written from their behaviour:

- `/init` `{"value": {"code": <zip base64>, "binary": true, "main": "main", "env": {...}}}`: once
  (403 after); the zip is extracted, `__main__.py` renamed `main__.py`, a launcher `exec__.py`
  importing `main__.<main>` written next to it with an `exec` script running it from that folder
  with the runtime's Python; the process starts with **only** the `__OW_*` variables and the
  init's `env` (no PATH, no HOME), and must write `{"ok": true}` on fd 3 (OW_WAIT_FOR_ACK).
- the launcher executes `virtualenv/bin/activate_this.py` when the zip has `virtualenv/` (exit 1
  without the script), then answers one JSON line on fd 3 per JSON line on stdin: `value` is the
  argument of `main`, every other key becomes `__OW_<KEY>` in the environment, an exception
  becomes `{"error": "<message>"}`.
- `/run`: the request body, newlines removed, is one line to the process; the answer must be a
  JSON object or array (else 502), 400 `command exited` when the process died.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

__all__ = ["ActionProxy", "init_action", "running_action"]

LAUNCHER = """\
import json, os, sys, traceback
venv = os.path.abspath("./virtualenv")
if os.path.isdir(venv):
    script = os.path.join(venv, "bin", "activate_this.py")
    if not os.path.exists(script):
        sys.stderr.write("Invalid virtualenv. Zip file does not include 'activate_this.py'.\\n")
        sys.exit(1)
    with open(script) as source:
        exec(compile(source.read(), script, "exec"), {"__file__": script})
from main__ import MAIN as main
out = os.fdopen(3, "wb")
if os.getenv("__OW_WAIT_FOR_ACK", ""):
    out.write(b'{"ok": true}\\n')
    out.flush()
while True:
    line = sys.stdin.readline()
    if not line:
        break
    args = json.loads(line)
    payload = {}
    for key, value in args.items():
        if key == "value":
            payload = value
        else:
            os.environ["__OW_" + key.upper()] = value
    try:
        result = main(payload)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        result = {"error": str(error)}
    out.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\\n")
    sys.stdout.flush()
    sys.stderr.flush()
    out.flush()
"""

EXECUTION_ENV = "openwhisk/action-python-v3.11"


@dataclass
class ActionProxy:
    """One action container: its folder, the runtime's Python, and the launched process."""

    base: Path
    python: Path
    process: subprocess.Popen[bytes] | None = None
    replies: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    initialized: bool = False

    def init(self, value: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.initialized:
            return 403, {"error": "Cannot initialize the action more than once."}
        code = value.get("code") or ""
        if not code:
            return 403, {"error": "Missing main/no code to execute."}
        source = self.base / "1" / "src"
        source.mkdir(parents=True)
        archive = source / "action.zip"
        archive.write_bytes(base64.b64decode(code) if value.get("binary") else code.encode())
        with zipfile.ZipFile(archive) as unpacked:
            unpacked.extractall(source)
        archive.unlink()
        if (source / "__main__.py").exists():
            (source / "__main__.py").rename(source / "main__.py")
        launcher = LAUNCHER.replace(
            "from main__ import MAIN", f"from main__ import {value.get('main') or 'main'}"
        )
        (source / "exec__.py").write_text(launcher)
        binary = self.base / "1" / "bin"
        shutil.move(str(source), binary)
        (binary / "exec").write_text(
            f'#!/bin/bash\nexport PYTHONIOENCODING=UTF-8\ncd "$(dirname $0)"\n'
            f'exec {self.python} exec__.py "$@"\n'
        )
        (binary / "exec").chmod(0o755)
        env = {"__OW_EXECUTION_ENV": EXECUTION_ENV, "__OW_WAIT_FOR_ACK": "1"}
        for key, item in (value.get("env") or {}).items():
            env[key] = item if isinstance(item, str) else json.dumps(item)
        read_end, write_end = os.pipe()
        with (
            open(self.base / "stdout.log", "ab") as out,
            open(self.base / "stderr.log", "ab") as err,
        ):
            # the proxy hands the launcher its answer pipe as fd 3 (Go's ExtraFiles); a shell
            # does the same here without a preexec hook (no fork-time Python in the child)
            self.process = subprocess.Popen(
                ["/bin/bash", "-c", f'exec 3>&{write_end} {write_end}>&-; exec "$0"',
                 str(binary / "exec")],
                stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, pass_fds=(write_end,),
            )  # fmt: skip
        os.close(write_end)
        self.replies = os.fdopen(read_end, "rb")
        ack = self.replies.readline()
        if not ack or json.loads(ack) != {"ok": True}:
            return 502, {"error": "Cannot start action. Check logs for details."}
        self.initialized = True
        return 200, {"ok": True}

    def run(self, body: bytes) -> tuple[int, Any]:
        with self.lock:
            if self.process is None:
                return 500, {"error": "no action defined yet"}
            if self.process.poll() is not None:
                return 500, {"error": "command exited"}
            assert self.process.stdin is not None
            self.process.stdin.write(body.replace(b"\n", b"") + b"\n")
            self.process.stdin.flush()
            line = self.replies.readline()
            if not line:
                return 400, {"error": "command exited"}
            answer = json.loads(line)
            if not isinstance(answer, (dict, list)):
                return 502, {"error": "The action did not return a dictionary or array."}
            return 200, answer

    def logs(self) -> str:
        return "".join(
            (self.base / name).read_text(errors="replace")
            for name in ("stdout.log", "stderr.log")
            if (self.base / name).exists()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def _handler(proxy: ActionProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/init":
                status, answer = proxy.init(json.loads(body).get("value") or {})
            elif self.path == "/run":
                status, answer = proxy.run(body)
            else:
                status, answer = 404, {"error": "not found"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_action(base: Path, python: Path) -> Iterator[tuple[str, ActionProxy]]:
    """An action container listening on a free port: (its URL, the proxy)."""
    base.mkdir(parents=True, exist_ok=True)
    proxy = ActionProxy(base, python)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", proxy
    finally:
        server.shutdown()
        server.server_close()
        proxy.stop()


def init_action(url: str, zip_path: Path, env: dict[str, str] | None = None) -> httpx.Response:
    code = base64.b64encode(zip_path.read_bytes()).decode()
    return httpx.post(
        f"{url}/init",
        json={"value": {"code": code, "binary": True, "main": "main", "env": env or {}}},
        timeout=120,
    )
