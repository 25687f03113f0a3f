"""Cold start of the deployed artefacts (`python -m bench coldstart --target cloudrun|openwhisk`):
per function a fresh process started the platform's way, timed from its start to the answer of
its first request, with the artefact's size and the peak memory of its processes.

- cloudrun: `functions-framework --target=<t>` in the function's source directory, on a fresh
  virtualenv of its requirements.txt (one per distinct set of pins, `infra.venvs`); ready = the
  port accepts connections (interpreter, gunicorn, imports), then the first request.
- openwhisk: the action-loop contract (`infra.openwhisk_local`): `/init` with the zip (unzip,
  launcher, virtualenv activation, import), then the first `/run`; on a Python holding the
  python:3.11 image's packages (plus the generated image's pins for image functions).

Both run on our own Firestore and Pub/Sub emulators, started for the measurement; the first
request is the function's first route without a token (HTTP), or a push of an empty message.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.emulator_servers import Server, start
from bench.report import machine, machine_line
from shared.manifest import FunctionSpec, Manifest, load

__all__ = ["line", "markdown", "measure"]

_RUNTIME = Path(__file__).resolve().parents[1] / "infra" / "openwhisk_runtime.txt"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for row in Path(f"/proc/{pid}/status").read_text().splitlines():
                if row.startswith("VmHWM:"):
                    total += int(row.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _group(pgid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            found.append(int(stat.parent.name))
    return found


def _first(spec: FunctionSpec) -> tuple[str, str, bytes]:
    """(method, path, body) of the first request."""
    if not spec.routes:
        push = {"message": {"data": base64.b64encode(b"{}").decode(), "messageId": "cold-1"},
                "subscription": "coldstart"}  # fmt: skip
        return "POST", "/", json.dumps(push).encode()
    route = sorted(spec.routes, key=lambda r: (r.method != "GET", "{" in r.path))[0]
    return route.method, route.path.replace("{", "cold").replace("}", ""), b""


@contextmanager
def _data(work: Path, manifest: Manifest) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Our Firestore and Pub/Sub emulators with the manifest's topics, and keys."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from infra.config import PUBLIC_KEYS_SECRET, SIGNING_KEY_SECRET
    from infra.keys import jwks_of

    servers: list[Server] = []
    try:
        for service in ("firestore", "pubsub"):
            server, _ = start("ours", service, work / service)
            servers.append(server)
        project = "coldstart"
        env = {"FIRESTORE_EMULATOR_HOST": servers[0].address,
               "PUBSUB_EMULATOR_HOST": servers[1].address, "STRATUS_PROJECT": project,
               "GOOGLE_CLOUD_PROJECT": project}  # fmt: skip
        subprocess.run(
            [sys.executable, "-c", "import sys\nfrom google.cloud import pubsub_v1\n"
             "p = pubsub_v1.PublisherClient()\nfor t in sys.argv[2:]:\n"
             "    p.create_topic(name=p.topic_path(sys.argv[1], t))",
             project, *manifest.topics],
            check=True, env={**os.environ, **env},
        )  # fmt: skip  # a child makes the topics: this process stays free of gRPC before forks
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()  # fmt: skip
        yield env, {SIGNING_KEY_SECRET: pem, PUBLIC_KEYS_SECRET: jwks_of(pem.encode())}
    finally:
        for server in servers:
            server.stop()


def _env(manifest: Manifest, spec: FunctionSpec,
         data: tuple[dict[str, str], dict[str, str]]) -> dict[str, str]:  # fmt: skip
    from infra.config import local_environment

    plain, secrets = data
    return local_environment(manifest, spec, secrets) | plain


def _cloudrun(manifest: Manifest, names: list[str], work: Path,
              data: tuple[dict[str, str], dict[str, str]]) -> list[dict[str, Any]]:  # fmt: skip
    from infra import cloudrun
    from infra.venvs import fresh_venv, venv_cache

    cloudrun.build(manifest, work, names)
    rows = []
    for name in names:
        spec, folder = manifest.functions[name], work / "cloudrun" / name
        size = round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1024)
        venv = fresh_venv(folder / "requirements.txt", venv_cache())
        # bytecode as pip and the buildpack leave it (the venv is installed without it)
        subprocess.run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv),
                        str(folder)], check=False, stdout=subprocess.DEVNULL)  # fmt: skip
        port = _free_port()
        method, path, body = _first(spec)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "PORT": str(port),
               **_env(manifest, spec, data)}  # fmt: skip
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(venv / "bin" / "functions-framework"), f"--target={cloudrun.target_of(spec)}",
             "--host", "127.0.0.1"],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        row: dict[str, Any] = {"function": name, "target": "cloudrun",
                               "request": f"{method} {path}",
                               "artefact_kib": size}  # fmt: skip
        try:
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if process.poll() is not None or time.perf_counter() - started > 120:
                    raise RuntimeError("did not listen")
                time.sleep(0.005)
            ready = time.perf_counter()
            headers = {"content-type": "application/json"}
            url = f"http://127.0.0.1:{port}{path}"
            answer = httpx.request(method, url, content=body, headers=headers, timeout=120)
            done = time.perf_counter()
            row |= {"ready_s": round(ready - started, 3), "first_request_s": round(done - ready, 3),
                    "total_s": round(done - started, 3), "status": answer.status_code,
                    "max_rss_mib": _peak_mib(_group(process.pid)), "error": None}  # fmt: skip
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(20)
        rows.append(row)
    return rows


def _openwhisk(manifest: Manifest, names: list[str], work: Path,
               data: tuple[dict[str, str], dict[str, str]]) -> list[dict[str, Any]]:  # fmt: skip
    from infra import openwhisk
    from infra.openwhisk_local import init_action, running_action
    from infra.venvs import fresh_venv, venv_cache

    built = openwhisk.build(manifest, work, names)
    image = work / "openwhisk" / "image" / "requirements.txt"
    rows = []
    for name in names:
        spec, archive = manifest.functions[name], built.zips[name]
        heavy = name in built.docker
        venv = (fresh_venv(_RUNTIME, venv_cache(), deps=True, then=image) if heavy
                else fresh_venv(_RUNTIME, venv_cache(), deps=True))  # fmt: skip
        method, path, body = _first(spec)
        kind = "openwhisk" + (" image" if heavy else "")
        row: dict[str, Any] = {"function": name, "target": kind, "request": f"{method} {path}",
                               "artefact_kib": round(archive.stat().st_size / 1024)}  # fmt: skip
        value = {**_env(manifest, spec, data), "STRATUS_PUSH_TOKEN": "cold",
                 "__ow_method": method.lower(), "__ow_path": path,
                 "__ow_headers": {"content-type": "application/json"},
                 "__ow_query": "" if spec.routes else "token=cold",
                 "__ow_body": base64.b64encode(body).decode()}  # fmt: skip
        with running_action(work / "containers" / name, venv / "bin" / "python") as (url, proxy):
            started = time.perf_counter()
            try:
                initialised = init_action(url, archive)
                ready = time.perf_counter()
                answer = httpx.post(f"{url}/run", json={"value": value}, timeout=120).json()
                done = time.perf_counter()
                pid = proxy.process.pid if proxy.process else 0
                row |= {"ready_s": round(ready - started, 3),
                        "first_request_s": round(done - ready, 3),
                        "total_s": round(done - started, 3),
                        "status": answer.get("statusCode", initialised.status_code),
                        "max_rss_mib": _peak_mib([pid]), "error": None}  # fmt: skip
            except Exception as exc:
                row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    return rows


def measure(target: str, manifest_path: str | os.PathLike[str] = "serverless.yml",
            only: list[str] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """One row per function of `target` (cloudrun or openwhisk)."""
    manifest = load(Path(manifest_path))
    names = [name for name in manifest.functions if not only or name in only]
    with tempfile.TemporaryDirectory() as scratch, _data(Path(scratch), manifest) as data:
        if target == "cloudrun":
            return _cloudrun(manifest, names, Path(scratch), data)
        return _openwhisk(manifest, names, Path(scratch), data)


def line(row: dict[str, Any]) -> str:
    text = (f"{row['function']:12s} {row['target']:15s} {row.get('artefact_kib')} KiB  total "
            f"{row.get('total_s')} s  ready {row.get('ready_s')} s  first request "
            f"{row.get('first_request_s')} s  HTTP {row.get('status')}  peak "
            f"{row.get('max_rss_mib')} MiB")  # fmt: skip
    return text + (f"  ERROR {row['error']}" if row.get("error") else "")


HEADING = "## Cold start of the deployed artefacts"


def markdown(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The BENCHMARKS.md section of both targets' rows."""
    lines = [
        HEADING, "",
        "`python -m bench coldstart --target cloudrun|openwhisk` (bench/coldstart_artefacts.py):",
        "a fresh process per function started the platform's way (Cloud Run: functions-framework",
        "in the built source directory on a virtualenv of its requirements.txt; OpenWhisk: the",
        "action loop's /init with the zip, on the python:3.11 image's packages), timed from its",
        "start to the answer of its first request (its first route without a token, or a push of",
        "an empty message); ready = listening / initialised. Peak = VmHWM of its processes",
        "(Cloud Run: gunicorn's master and worker). Our Firestore and Pub/Sub emulators serve",
        "them. Cloud Run's virtualenvs hold bytecode (as pip and the buildpack leave them); the",
        "zips hold none, so an OpenWhisk cold start compiles what it imports. The OS page cache",
        "is warm (same machine, one run after another): a real cold start also reads from disk.",
        f"Machine: {machine_line(machine())}.",
        "",
        "| function | target | artefact KiB | total s | ready s | first request s | answer | "
        "peak MiB |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]  # fmt: skip
    for target in ("cloudrun", "openwhisk"):
        for row in rows.get(target, []):
            answer = row.get("error") or f"HTTP {row.get('status')}"
            lines.append(
                f"| {row['function']} | {row['target']} | {row.get('artefact_kib')} | "
                f"{row.get('total_s')} | {row.get('ready_s')} | {row.get('first_request_s')} | "
                f"{answer} | {row.get('max_rss_mib')} |"
            )
    return [*lines, ""]
