"""Cold start per function: a fresh `python -c` process imports the function's main module and
sends one first request through its native entry (`app` for HTTP functions, the EventFunction
for event functions); we time it, and the process reports its peak resident memory (VmHWM from
/proc; the rusage of the child is the fallback, and on Linux it starts at the parent's size, as
the high-water mark survives vfork and exec).

Works for any function in serverless.yml. A first request that needs the store or the bus needs
the emulator running (its endpoints in the environment); otherwise it reports the error it got.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from shared.manifest import FunctionSpec, load

__all__ = ["line", "measure", "measure_all"]

_REPO = Path(__file__).resolve().parent.parent

_CHILD = r"""
import json, sys, time
started = time.perf_counter()
import importlib
module = importlib.import_module(MODULE)
imported = time.perf_counter()
out = {"import_s": imported - started}
try:
    if KIND == "http":
        from shared.http import Request
        app = getattr(module, "app", None) or getattr(module, "http").__stratus_function__
        response = app(Request(method=METHOD, path=PATH, headers={"accept": "application/json"}))
        out["status"] = response.status
    else:
        from shared.events import EventFunction, Message
        handler = next(v for v in vars(module).values() if isinstance(v, EventFunction))
        outcome = handler(Message(id="coldstart-1", data=b"{}", topic="coldstart"))
        out["outcome"] = repr(outcome)[:200]
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"[:300]
out["first_request_s"] = time.perf_counter() - imported
try:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                out["vm_hwm_kib"] = int(line.split()[1])
except OSError:
    pass
print("COLDSTART " + json.dumps(out), flush=True)
"""


def _first_route(spec: FunctionSpec) -> tuple[str, str]:
    routes = sorted(spec.routes, key=lambda r: (r.method != "GET", "{" in r.path))
    if not routes:
        return "GET", "/"
    route = routes[0]
    return route.method, re.sub(r"\{[^}]+\}", "coldstart", route.path)


def measure(spec: FunctionSpec, root: Path, timeout: float = 60.0) -> dict[str, Any]:
    """One fresh process for `spec`: total, import and first-request seconds, max RSS (MiB)."""
    method, path = _first_route(spec)
    code = (
        f"MODULE = {spec.module!r}\nKIND = {spec.kind!r}\nMETHOD = {method!r}\nPATH = {path!r}\n"
        + _CHILD
    )
    paths = [str(root), str(_REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]
    env = os.environ | dict(spec.environment) | {"PYTHONPATH": os.pathsep.join(paths)}
    row: dict[str, Any] = {"function": spec.name, "kind": spec.kind, "request": f"{method} {path}"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", code], cwd=root, env=env, stdout=out, stderr=err
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        try:
            # wait4 reaps this child alone and gives its own rusage (ru_maxrss in KiB on Linux)
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        row["total_s"] = round(time.perf_counter() - started, 3)
        row["max_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode < 0:
            row["error"] = f"killed after {timeout} s"
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    found = [
        ln for ln in stdout.decode(errors="replace").splitlines() if ln.startswith("COLDSTART")
    ]
    if found:
        child = json.loads(found[-1].split(" ", 1)[1])
        row["import_s"] = round(child.pop("import_s"), 3)
        row["first_request_s"] = round(child.pop("first_request_s"), 3)
        if "vm_hwm_kib" in child:  # the process' own peak (rusage keeps the parent's at exec)
            row["max_rss_mib"] = round(child.pop("vm_hwm_kib") / 1024, 1)
        row |= child
    elif "error" not in row:
        row["error"] = stderr.decode(errors="replace").strip().splitlines()[-1:] or "no output"
    row.setdefault("error", None)
    return row


def measure_all(
    manifest: str | os.PathLike[str] = "serverless.yml", only: list[str] | None = None
) -> list[dict[str, Any]]:
    loaded = load(Path(manifest))
    specs = [spec for name, spec in loaded.functions.items() if not only or name in only]
    return [measure(spec, loaded.root) for spec in specs]


def line(row: dict[str, Any]) -> str:
    text = (
        f"{row['function']:20s} total {row.get('total_s')} s  import {row.get('import_s')} s  "
        f"first request {row.get('first_request_s')} s  max RSS {row.get('max_rss_mib')} MiB"
    )
    return text + (f"  ERROR {row['error']}" if row.get("error") else "")
