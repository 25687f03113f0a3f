"""One host for every HTTP route of the manifest: the API Gateway description of each target.

- Cloud Run: an OpenAPI 2.0 document for Google's API Gateway, each operation sent by
  `x-google-backend` to its function's service (deterministic URL
  `https://stratus-<fn>-<project number>.<region>.run.app`, path appended); public functions with
  `disable_auth`, IAM-only ones (`custom.stratus.cloudrun.private`) with the gateway's own token
  (the caller's `authorization` then arrives as `x-forwarded-authorization`, which the
  functions-framework adapter reads).
- OpenWhisk: the API Gateway's import format (`wsk api create --config-file`): OpenAPI 2.0 with
  `x-openwhisk` and `x-gateway-configuration`. A route without path parameters is sent to
  `<action>.http<path>`, so the action gets its path in `__ow_path` (the gateway's own routes
  leave it empty there); a route with parameters to `<action>.http$(request.path)`.

Every route also answers with a trailing slash (the reference curl script posts to
`/api/devices/`), as the emulator's router does.
"""

from __future__ import annotations

import re
from typing import Any

from infra.config import service_name
from shared.manifest import FunctionSpec, HttpRoute, Manifest

__all__ = ["cloudrun_spec", "openwhisk_spec", "run_url"]

_PARAM = re.compile(r"\{([^}]+)\}")


def run_url(function: str, project_number: str, region: str) -> str:
    """A Cloud Run service's deterministic URL."""
    return f"https://{service_name(function)}-{project_number}.{region}.run.app"


def _paths(route: HttpRoute) -> list[str]:
    path = route.path.rstrip("/") or "/"
    return [path] if path == "/" else [path, path + "/"]


def _operation_id(spec: FunctionSpec, method: str, path: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "root"
    slash = "_slash" if path.endswith("/") and path != "/" else ""
    return f"{spec.name}_{method.lower()}_{words}{slash}"


def _parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"in": "path", "name": name, "required": True, "type": "string"}
        for name in _PARAM.findall(path)
    ]


def _operations(manifest: Manifest) -> list[tuple[str, str, FunctionSpec]]:
    """(path, method, function) for every route and its trailing-slash twin, sorted."""
    found = [
        (path, route.method.lower(), spec)
        for route, spec in manifest.routes()
        for path in _paths(route)
    ]
    return sorted(found, key=lambda item: (item[0], item[1]))


def cloudrun_spec(
    manifest: Manifest, project: str, region: str, project_number: str
) -> dict[str, Any]:
    """The API Gateway (ESPv2) description routing every HTTP event to its Cloud Run service."""
    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec in _operations(manifest):
        address = run_url(spec.name, project_number, region)
        backend: dict[str, Any] = {"address": address, "path_translation": "APPEND_PATH_TO_ADDRESS"}
        if spec.name in manifest.private_functions:
            backend["jwt_audience"] = address
        else:
            backend["disable_auth"] = True
        backend["deadline"] = float(spec.timeout_seconds or 300)
        operation: dict[str, Any] = {
            "operationId": _operation_id(spec, method, path),
            "x-google-backend": backend,
            "responses": {"default": {"description": f"the answer of function {spec.name}"}},
        }
        if _parameters(path):
            operation["parameters"] = _parameters(path)
        paths.setdefault(path, {})[method] = operation
    return {
        "swagger": "2.0",
        "info": {"title": manifest.service, "version": "1.0.0",
                 "description": f"Every HTTP route of {manifest.service} on project {project}"},
        "schemes": ["https"],
        "produces": ["application/json"],
        "paths": paths,
    }  # fmt: skip


def openwhisk_spec(manifest: Manifest, apihost: str, namespace: str) -> dict[str, Any]:
    """The OpenWhisk API Gateway description of every HTTP event (`wsk api create
    --config-file`), each route's backend carrying its path."""
    paths: dict[str, dict[str, Any]] = {}
    cases = []
    for path, method, spec in _operations(manifest):
        action = spec.name
        base = f"https://{apihost}/api/v1/web/{namespace}/{manifest.service}/{action}.http"
        url = base + ("$(request.path)" if "{" in path else path)
        operation_id = _operation_id(spec, method, path)
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "x-openwhisk": {
                "namespace": namespace,
                "package": manifest.service,
                "action": action,
                "url": url,
            },
            "responses": {"default": {"description": f"the answer of function {spec.name}"}},
        }
        if _parameters(path):
            operation["parameters"] = _parameters(path)
        paths.setdefault(path, {})[method] = operation
        cases.append({"operations": [operation_id],
                      "execute": [{"invoke": {"target-url": url, "verb": "keep"}}]})  # fmt: skip
    return {
        "swagger": "2.0",
        "basePath": "/",
        "info": {"title": manifest.service, "version": "1.0.0"},
        "paths": paths,
        "x-gateway-configuration": {
            "assembly": {"execute": [{"operation-switch": {"case": cases}}]},
            "cors": {"enabled": True},
        },
    }
