"""`python -m infra build` for Cloud Run, the Kubernetes parts and the API descriptions (writing
files only): the layout buildpacks run, exact pins, only the code a function imports, secrets
referenced never written, the same bytes twice."""

from __future__ import annotations

import ast
import filecmp
from pathlib import Path

import pytest
import yaml

from infra import api, cloudrun, kube
from infra.needs import needs
from shared.manifest import Manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dist(manifest: Manifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    cloudrun.build(manifest, out, list(manifest.functions))
    kube.build(manifest, out)
    return out


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_the_same_tree_gives_the_same_bytes(manifest: Manifest, tmp_path: Path) -> None:
    for out in (tmp_path / "a", tmp_path / "b"):  # back to back: the tree may change meanwhile
        cloudrun.build(manifest, out, ["status", "writer", "openapi"])
        kube.build(manifest, out)
    for part in ("cloudrun/status", "cloudrun/writer", "cloudrun/openapi", "k8s"):
        first, second = tmp_path / "a" / part, tmp_path / "b" / part
        assert _files(first) == _files(second)
        assert not filecmp.dircmp(first, second).diff_files, part
        for name in _files(first):
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_source_dir_holds_only_what_its_function_imports(manifest: Manifest, dist: Path) -> None:
    for name, spec in manifest.functions.items():
        folder = dist / "cloudrun" / name
        code = {f for f in _files(folder) if f.startswith(("shared/", "functions/"))}
        assert code == set(needs(spec, manifest).files)
        assert not any(f.startswith("functions/") and not f.startswith(f"functions/{name}/")
                       and f != "functions/__init__.py" for f in code)  # fmt: skip
    assert "functions/openapi/openapi.yaml" in _files(dist / "cloudrun" / "openapi")


def test_the_root_main_declares_target_and_signature(manifest: Manifest, dist: Path) -> None:
    for name, spec in manifest.functions.items():
        folder = dist / "cloudrun" / name
        tree = ast.parse((folder / "main.py").read_text())
        target = "http" if spec.routes else "event"
        bound = [n for n in tree.body if isinstance(n, ast.Assign)]
        assert [t.id for n in bound for t in n.targets if isinstance(t, ast.Name)] == [target]
        assert "functions_framework.http(" in (folder / "main.py").read_text()
        project = (folder / "project.toml").read_text()
        assert f'value = "{target}"' in project and "GOOGLE_FUNCTION_SIGNATURE_TYPE" in project


def test_requirements_are_exact_pins_with_the_framework(manifest: Manifest, dist: Path) -> None:
    for name in manifest.functions:
        lines = [line for line in (dist / "cloudrun" / name / "requirements.txt").read_text()
                 .splitlines() if not line.startswith("#")]  # fmt: skip
        assert lines and all("==" in line and ";" not in line for line in lines), name
        assert any(line.startswith("functions-framework==") for line in lines)
        assert ("onnxruntime" in " ".join(lines)) == (name in {"scorer", "detectors", "models",
                                                               "inference"})  # fmt: skip


def test_knative_services_reference_secrets_and_hold_none(manifest: Manifest, dist: Path) -> None:
    signers = set()
    for name in manifest.functions:
        text = (dist / "cloudrun" / name / "service.yaml").read_text()
        (service,) = yaml.safe_load_all(text)
        env = service["spec"]["template"]["spec"]["containers"][0]["env"]
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
        assert refs["STRATUS_JWT_PUBLIC_KEYS"] == "stratus-jwt-public-keys"
        if "STRATUS_JWT_PRIVATE_KEY" in refs:
            signers.add(name)
        assert "PRIVATE KEY-----" not in text
    assert signers == {"users", "devices", "consumers", "bootstrap"}
    for part in ("broker.yaml", "bridge.yaml", "websocket.yaml", "gateways/Dockerfile"):
        assert "password" not in (dist / "k8s" / part).read_text().lower().replace(
            "stratus_mqtt_bridge_password", ""
        )


def test_the_kubernetes_parts(dist: Path) -> None:
    broker = list(yaml.safe_load_all((dist / "k8s" / "broker.yaml").read_text()))
    kinds = [doc["kind"] for doc in broker]
    assert kinds == ["ConfigMap", "Service", "StatefulSet", "Job"]
    conf = broker[0]["data"]["mosquitto.conf"]
    assert "allow_anonymous false" in conf and "mosquitto_dynamic_security.so" in conf
    assert broker[2]["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    (_, bridges) = yaml.safe_load_all((dist / "k8s" / "bridge.yaml").read_text())
    assert bridges["kind"] == "StatefulSet" and bridges["spec"]["replicas"] == kube.BRIDGES
    login = bridges["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "stratus-bridge-$n" in login  # pod k logs in as its own account
    source = dist / "k8s" / "gateways"
    wanted = {"gateways/bridge/__main__.py", "gateways/websocket/__main__.py",
              "infra/broker_setup.py", "Dockerfile", "requirements.txt"}  # fmt: skip
    assert wanted <= _files(source)
    assert (dist / "k8s" / "gateways.tag").read_text().strip()


def test_the_cloud_run_gateway_routes_every_event(manifest: Manifest) -> None:
    spec = api.cloudrun_spec(manifest, "p", "europe-west1", "123")
    for route, function in manifest.routes():
        path = route.path.rstrip("/") or "/"
        operation = spec["paths"][path][route.method.lower()]
        backend = operation["x-google-backend"]
        assert backend["address"] == f"https://stratus-{function.name}-123.europe-west1.run.app"
        assert backend["path_translation"] == "APPEND_PATH_TO_ADDRESS"
        assert backend.get("disable_auth") is True
        if path != "/":
            assert route.method.lower() in spec["paths"][path + "/"]  # the curl script's /
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_the_openwhisk_gateway_sends_each_route_its_path(manifest: Manifest) -> None:
    spec = api.openwhisk_spec(manifest, "ow.example", "guest")
    urls = {(path, method): op["x-openwhisk"]["url"]
            for path, ops in spec["paths"].items() for method, op in ops.items()}  # fmt: skip
    base = "https://ow.example/api/v1/web/guest/stratus"
    assert urls[("/ingest", "post")] == f"{base}/ingest.http/ingest"
    assert urls[("/api/status", "get")] == f"{base}/status.http/api/status"
    assert urls[("/api/devices/{device_id}", "get")] == f"{base}/devices.http$(request.path)"
    cases = spec["x-gateway-configuration"]["assembly"]["execute"][0]["operation-switch"]["case"]
    assert len(cases) == len(urls)
