"""Names and settings every target derives the same way from the manifest: services, service
accounts, secrets, MQTT accounts, the environment a deployed function gets, schedules as cron."""

from __future__ import annotations

from dataclasses import dataclass

from infra.needs import Needs, needs
from shared.manifest import FunctionSpec, Manifest, ScheduleSpec

__all__ = [
    "BROKER_ADMIN",
    "PUBLIC_KEYS_SECRET",
    "SIGNING_KEY_SECRET",
    "SecretEnv",
    "cron_of",
    "deploy_environment",
    "local_environment",
    "mqtt_accounts",
    "secret_env",
    "service_name",
]

PREFIX = "stratus"
SIGNING_KEY_SECRET = "stratus-jwt-signing-key"  # PEM, only for the functions that sign tokens
PUBLIC_KEYS_SECRET = "stratus-jwt-public-keys"  # JWKS, for every function
BROKER_ADMIN = "stratus-admin"  # the broker's root dynamic-security account (setup job only)


def service_name(function: str) -> str:
    """A function's Cloud Run / Knative service, OpenWhisk action and service-account stem."""
    return f"{PREFIX}-{function}"


def deploy_environment(manifest: Manifest, spec: FunctionSpec) -> dict[str, str]:
    """The plain variables of a deployed function: the manifest's (provider, then function),
    `STRATUS_ENV=production` and `STRATUS_FUNCTION`. Secrets are never among them."""
    env = {**manifest.environment, **spec.environment}
    env["STRATUS_ENV"] = "production"
    env["STRATUS_FUNCTION"] = spec.name
    return dict(sorted(env.items()))


def mqtt_accounts(needs: Needs) -> dict[str, str]:
    """`ADMIN`/`API` -> the function's own broker account (one connection per account)."""
    accounts = {}
    if needs.mqtt_admin:
        accounts["ADMIN"] = f"stratus-admin-{needs.name}"
    if needs.mqtt_api:
        accounts["API"] = f"stratus-api-{needs.name}"
    return accounts


@dataclass(frozen=True, slots=True)
class SecretEnv:
    """An environment variable whose value is a secret (never written in an artefact)."""

    variable: str
    secret: str


def mqtt_secret(account: str) -> str:
    return f"stratus-mqtt-{account}"


def secret_env(needs: Needs) -> list[SecretEnv]:
    """The secret variables of a function: the public keys for all, the private key for the
    functions that sign, the password of each broker account it holds."""
    out = [SecretEnv("STRATUS_JWT_PUBLIC_KEYS", PUBLIC_KEYS_SECRET)]
    if needs.signs:
        out.append(SecretEnv("STRATUS_JWT_PRIVATE_KEY", SIGNING_KEY_SECRET))
    for role, account in mqtt_accounts(needs).items():
        out.append(SecretEnv(f"STRATUS_MQTT_{role}_PASSWORD", mqtt_secret(account)))
    return out


def mqtt_environment(needs: Needs) -> dict[str, str]:
    """The broker account names of a function (the host comes from the plan)."""
    return {f"STRATUS_MQTT_{role}_USERNAME": name for role, name in mqtt_accounts(needs).items()}


def local_environment(
    manifest: Manifest, spec: FunctionSpec, secrets: dict[str, str]
) -> dict[str, str]:
    """What a function gets where the plan does not run (the validation tests, the cold-start
    bench): its plain variables and, of `secrets` (secret name -> value), exactly those
    `secret_env` grants it."""
    env = deploy_environment(manifest, spec)
    for item in secret_env(needs(spec, manifest)):
        if item.secret in secrets:
            env[item.variable] = secrets[item.secret]
    return env


def cron_of(schedule: ScheduleSpec) -> str:
    """A unix cron line for Cloud Scheduler: the schedule's own, or a rate as the nearest cron
    (exact when the rate divides an hour or a day; `rate(7 minutes)` restarts every hour)."""
    if schedule.cron is not None:
        return schedule.cron
    assert schedule.interval_seconds is not None
    minutes = int(schedule.interval_seconds // 60)
    if minutes < 60:
        return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"
    hours = minutes // 60
    if hours < 24:
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    days = hours // 24
    return "0 0 * * *" if days == 1 else f"0 0 */{days} * *"
