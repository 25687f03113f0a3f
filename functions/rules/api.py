"""HTTP routes of the rules function: admins write, every user of the organisation reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.rules.service import Rules
from shared.auth.guard import require
from shared.directory import page_limit
from shared.errors import ValidationError
from shared.http import Request, Response, json_response
from shared.router import Router

__all__ = ["body_object", "build_router"]


def body_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (400 otherwise)."""
    body = request.json()
    if not isinstance(body, dict):
        raise ValidationError("request body must be a JSON object", field="body")
    return body


def build_router(rules: Callable[[], Rules]) -> Router:
    """The routes over a lazily built core."""
    router = Router()

    def reader(request: Request) -> str:
        return require(request, kinds={"user"}).org

    def admin(request: Request) -> str:
        return require(request, kinds={"user"}, role="admin").org

    @router.route("POST", "/api/rules")
    def create_rule(request: Request) -> Response:
        """Create a rule (admin); 400 names the field, and for the condition the column."""
        org = admin(request)
        rule = rules().create(org, body_object(request))
        return json_response(rule, 201, {"location": f"/api/rules/{rule['id']}"})

    @router.route("GET", "/api/rules")
    def list_rules(request: Request) -> Response:
        org = reader(request)
        limit = page_limit(request.arg("limit"))
        return json_response(rules().list(org, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/rules/{rule_id}")
    def get_rule(request: Request) -> Response:
        return json_response(rules().get(reader(request), request.path_params["rule_id"]))

    @router.route("PATCH", "/api/rules/{rule_id}")
    def update_rule(request: Request) -> Response:
        """Change any field (admin); the merged rule is validated whole and its version grows."""
        org = admin(request)
        rule_id = request.path_params["rule_id"]
        return json_response(rules().update(org, rule_id, body_object(request)))

    @router.route("DELETE", "/api/rules/{rule_id}")
    def delete_rule(request: Request) -> Response:
        """Delete the rule (admin): its unresolved alerts are resolved, its states dropped."""
        rules().delete(admin(request), request.path_params["rule_id"])
        return Response(204)

    @router.route("GET", "/api/webhook-secret")
    def get_secret(request: Request) -> Response:
        """The organisation's webhook signing secret (admin), made on first use."""
        return json_response(rules().webhook_secret(admin(request)))

    @router.route("POST", "/api/webhook-secret/rotate")
    def rotate_secret(request: Request) -> Response:
        """A new webhook signing secret (admin); signatures use it from the next delivery."""
        return json_response(rules().webhook_secret(admin(request), rotate=True))

    return router
