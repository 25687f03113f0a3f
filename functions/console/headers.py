"""The security headers every answer of the console carries, and the middleware that adds them."""

from __future__ import annotations

from collections.abc import Callable

from shared.errors import StratusError
from shared.http import Request, Response, error_response

__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "secure"]

# Scripts, styles, images and API calls from the console's own origin only; no inline script or
# style, no eval, no plugins, no <base>, no form submissions (every form is handled by script:
# one that is not never sends a password in a URL), never framed; DOM sinks that parse HTML
# (innerHTML, document.write...) refuse strings (Trusted Types with no policy), so user data can
# only ever reach the page as text.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def secure(request: Request, call_next: Callable[[Request], Response]) -> Response:
    """Add the security headers to every answer, errors included (a header a route set wins):
    an error is turned into its answer here, inside the stack's error mapping, so it has them."""
    try:
        response = call_next(request)
    except StratusError as error:
        response = error_response(error, request.context.get("request_id"))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
