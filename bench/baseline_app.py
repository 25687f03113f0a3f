"""The baseline: a trivial functions-framework HTTP function that echoes the JSON body back."""

import functions_framework


@functions_framework.http
def echo(request):  # type: ignore[no-untyped-def]
    return request.get_json(silent=True) or {}
