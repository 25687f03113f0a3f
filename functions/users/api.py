"""HTTP routes of the users function."""

from __future__ import annotations

from collections.abc import Callable

from functions.users.model import Credentials, NewUser, UserChanges
from functions.users.service import Users
from shared.auth import Principal, require
from shared.directory import page_limit
from shared.http import Request, Response, client_address, json_response
from shared.router import Router

__all__ = ["build_router"]


def _target(request: Request, actor: Principal) -> str:
    """The user id of the path; `self` is the caller."""
    user_id = request.path_params["user_id"]
    return actor.subject if user_id == "self" else user_id


def build_router(users: Callable[[], Users], *, behind_proxy: bool = False) -> Router:
    """The routes, on a lazily built core; sign-in is public, every other route needs a user
    token of the organisation. `behind_proxy`: the client's address is the last
    `x-forwarded-for` entry (shared.http.client_address)."""
    router = Router()

    @router.route("POST", "/api/users/signin")
    def signin(request: Request) -> Response:
        """Exchange a user name and password for a user token (public)."""
        client = client_address(request, behind_proxy=behind_proxy)
        token = users().signin(Credentials.parse(request.json()), client)
        return json_response({"token": token}, headers={"cache-control": "no-store"})

    @router.route("POST", "/api/users")
    def create_user(request: Request) -> Response:
        """Create a user of the caller's organisation (admins)."""
        actor = require(request, role="admin")
        user = users().create(actor, NewUser.parse(request.json()))
        return json_response(user, 201, headers={"location": f"/api/users/{user['id']}"})

    @router.route("GET", "/api/users")
    def list_users(request: Request) -> Response:
        """A page of the organisation's users (admins); `limit`, `cursor`."""
        actor = require(request)
        limit = page_limit(request.arg("limit"))
        return json_response(users().list(actor, limit, request.arg("cursor") or None))

    @router.route("GET", "/api/users/{user_id}")
    def get_user(request: Request) -> Response:
        """One user (admins: any of the organisation; members: only themselves, also as `self`)."""
        actor = require(request)
        return json_response(users().get(actor, _target(request, actor)))

    @router.route("PATCH", "/api/users/{user_id}")
    def update_user(request: Request) -> Response:
        """Change user name, password (own: with current_password) or role (admins)."""
        actor = require(request)
        changes = UserChanges.parse(request.json())
        return json_response(users().update(actor, _target(request, actor), changes))

    @router.route("DELETE", "/api/users/{user_id}")
    def delete_user(request: Request) -> Response:
        """Delete a user (admins); its tokens stop working."""
        actor = require(request)
        users().delete(actor, _target(request, actor))
        return Response(status=204)

    return router
