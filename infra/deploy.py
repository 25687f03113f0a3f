"""`python -m infra deploy`: run the plan, after checking the target's credentials are there.

Without them it stops before any command with one line saying what is missing; nothing changed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["missing_credentials", "run"]


def _gcloud_account() -> bool:
    if os.environ.get("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE") or os.environ.get(
        "GOOGLE_APPLICATION_CREDENTIALS"
    ):
        return True
    if shutil.which("gcloud") is None:
        return False
    found = subprocess.run(
        ["gcloud", "auth", "list", "--filter=status:ACTIVE", "--format=value(account)"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return found.returncode == 0 and bool(found.stdout.strip())


def _wsk_auth() -> bool:
    if shutil.which("wsk") is None:
        return False
    props = Path(os.environ.get("WSK_CONFIG_FILE") or Path.home() / ".wskprops")
    text = props.read_text() if props.is_file() else ""
    return "AUTH=" in text or bool(os.environ.get("__OW_API_KEY"))


def missing_credentials(target: str) -> str | None:
    """What is missing to deploy to `target`, or None."""
    if not _gcloud_account():
        return "no Google Cloud credentials (gcloud auth login, or GOOGLE_APPLICATION_CREDENTIALS)"
    if target == "openwhisk" and not _wsk_auth():
        return "no OpenWhisk credentials (wsk on PATH with `wsk property set --auth ...`)"
    if shutil.which("kubectl") is None:
        return "kubectl is not on PATH (the broker, bridges and gateways deploy with it)"
    return None


def run(target: str, plan: str) -> int:
    """Run `plan` with bash; 2 without credentials (nothing run), else bash's status."""
    missing = missing_credentials(target)
    if missing:
        print(f"deploy: {missing}; nothing was changed", file=sys.stderr)
        return 2
    return subprocess.run(["bash", "-c", plan], check=False).returncode
