"""The OpenWhisk plan: the actions on one API host, the data on Google Cloud (Firestore and
Pub/Sub, which the functions use wherever they run), the broker and gateways on the cluster of
the current `kubectl` context.

Secrets live in files under `$STRATUS_SECRETS` (default `~/.config/stratus/secrets`, mode 700):
the plan generates what is missing there and binds them to the actions as parameters (OpenWhisk's
configuration mechanism; `final` so no request overrides them; turn on the controller's parameter
encryption to keep them encrypted at rest). Event functions are raw web actions that Pub/Sub
pushes to with `?token=` (the push token); `schedule` events fire them through the alarms feed.
"""

from __future__ import annotations

import json
import re

from infra import kube
from infra.config import (
    BROKER_ADMIN,
    cron_of,
    deploy_environment,
    mqtt_accounts,
    mqtt_environment,
)
from infra.needs import needs
from infra.plan import Plan, Push, command, firestore_steps, gcloud, pubsub_steps
from infra.plan_cloudrun import service_account
from shared.manifest import FunctionSpec, Manifest, SubscriptionSpec

__all__ = ["plan"]

SECRETS = "${STRATUS_SECRETS}"


def _var(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def _secret_files(script: Plan, manifest: Manifest, accounts: list[str]) -> None:
    script.section("Secrets: generated once into $STRATUS_SECRETS (never in the plan)")
    script.raw("STRATUS_SECRETS=${STRATUS_SECRETS:-$HOME/.config/stratus/secrets}")
    script.raw('install -d -m 700 "${STRATUS_SECRETS}"')
    script.raw(f'[ -s "{SECRETS}/push-token" ] || (umask 077; openssl rand -hex 32 > '
               f'"{SECRETS}/push-token")')  # fmt: skip
    script.raw(
        f'[ -s "{SECRETS}/jwt-signing-key.pem" ] || (umask 077; openssl genpkey -algorithm '
        f'EC -pkeyopt ec_paramgen_curve:P-256 -out "{SECRETS}/jwt-signing-key.pem")'
    )
    script.note("the public keys: the signing key's, and every older one still trusted (rotation)")
    script.raw(f'CURRENT_JWKS=$(cat "{SECRETS}/jwt-public-keys.json" 2>/dev/null || '
               "echo '{\"keys\":[]}')")  # fmt: skip
    script.raw(
        f'(umask 077; python -m infra jwks --keep "${{CURRENT_JWKS}}" < '
        f'"{SECRETS}/jwt-signing-key.pem" > "{SECRETS}/jwt-public-keys.json")'
    )
    for account in accounts:
        path = f"{SECRETS}/mqtt-{account}"
        script.raw(f"[ -s \"{path}\" ] || (umask 077; openssl rand -base64 24 | tr -d '\\n' > "
                   f'"{path}")')  # fmt: skip
    script.raw(f'PUSH_TOKEN=$(cat "{SECRETS}/push-token")')
    script.raw(f'SIGNING_KEY=$(cat "{SECRETS}/jwt-signing-key.pem")')
    script.raw(f'PUBLIC_KEYS=$(cat "{SECRETS}/jwt-public-keys.json")')


def _google_identity(script: Plan, stem: str, roles: list[str], project: str) -> str:
    """A service account with `roles` and a key file under $STRATUS_SECRETS; its variable."""
    g = gcloud(project)
    email = service_account(stem, project)
    script.ensure(g("iam", "service-accounts", "describe", email),
                  g("iam", "service-accounts", "create", email.split("@")[0],
                    f"--display-name=Stratus {stem} on OpenWhisk"))  # fmt: skip
    for role in roles:
        script.run(*g("projects", "add-iam-policy-binding", project,
                      f"--member=serviceAccount:{email}", f"--role={role}", "--condition=None",
                      "-q"))  # fmt: skip
    key = f"{SECRETS}/gcp-{stem}.json"
    create = command(*g("iam", "service-accounts", "keys", "create", key,
                        f"--iam-account={email}"))  # fmt: skip
    script.raw(f'[ -s "{key}" ] || (umask 077; {create})')
    variable = f"GCP_KEY_{_var(stem)}"
    script.raw(f'{variable}=$(cat "{key}")')
    return variable


def _action(script: Plan, manifest: Manifest, spec: FunctionSpec, project: str, apihost: str,
            out: str, docker: bool) -> None:  # fmt: skip
    footprint = needs(spec, manifest)
    roles = (["roles/datastore.user"] if footprint.store else []) + (
        ["roles/pubsub.publisher"] if footprint.bus else []
    )
    key = _google_identity(script, spec.name, roles, project)
    params = {**deploy_environment(manifest, spec), **mqtt_environment(footprint)}
    params["STRATUS_JWT_PUBLIC_KEYS"] = "${PUBLIC_KEYS}"
    params["STRATUS_GOOGLE_CREDENTIALS"] = f"${{{key}}}"
    if footprint.signs:
        params["STRATUS_JWT_PRIVATE_KEY"] = "${SIGNING_KEY}"
    if not spec.routes:
        params["STRATUS_PUSH_TOKEN"] = "${PUSH_TOKEN}"
    if footprint.mqtt:
        params |= {"STRATUS_MQTT_HOST": "${MQTT_HOST}", "STRATUS_MQTT_PORT": "1883"}
    for role, account in mqtt_accounts(footprint).items():
        variable = f"MQTT_{_var(account)}"
        script.raw(f'{variable}=$(cat "{SECRETS}/mqtt-{account}")')
        params[f"STRATUS_MQTT_{role}_PASSWORD"] = f"${{{variable}}}"
    kind = ["--docker", "${OPENWHISK_IMAGE}"] if docker else ["--kind", "python:3.11"]
    words = ["wsk", "--apihost", apihost, "action", "update", f"{manifest.service}/{spec.name}",
             f"{out}/openwhisk/{spec.name}.zip", *kind, "--main", "main", "--web", "raw",
             "--annotation", "final", "true", "--memory", str(spec.memory_mb or 256),
             "--timeout", str((spec.timeout_seconds or 60) * 1000)]  # fmt: skip
    for name, value in sorted(params.items()):
        words += ["--param", name, value]
    script.run(*words)


def _schedules(script: Plan, manifest: Manifest, apihost: str) -> None:
    if not manifest.schedules:
        return
    script.section("Schedules: the alarms feed fires a trigger, a rule invokes the action")
    wsk = ["wsk", "--apihost", apihost]
    for schedule in manifest.schedules:
        name = f"{manifest.service}-{schedule.function}-schedule"
        payload = json.dumps({"function": schedule.function, "schedule": schedule.expression,
                              "topic": schedule.topic}, separators=(",", ":"))  # fmt: skip
        if schedule.cron is None and schedule.interval_seconds is not None:
            feed = ["--feed", "/whisk.system/alarms/interval",
                    "--param", "minutes", str(int(schedule.interval_seconds // 60))]  # fmt: skip
        else:
            feed = ["--feed", "/whisk.system/alarms/alarm", "--param", "cron", cron_of(schedule)]
        script.ensure([*wsk, "trigger", "get", name],
                      [*wsk, "trigger", "create", name, *feed, "--param", "trigger_payload",
                       payload])  # fmt: skip
        script.ensure([*wsk, "rule", "get", name],
                      [*wsk, "rule", "create", name, name,
                       f"{manifest.service}/{schedule.function}"])  # fmt: skip


def _cluster(script: Plan, out: str, accounts: list[str], project: str) -> None:
    script.section("MQTT broker, bridges and WebSocket gateway on the current kubectl cluster")
    script.raw(
        f"GATEWAYS_IMAGE=${{STRATUS_REGISTRY}}/stratus-gateways:$(cat {out}/k8s/gateways.tag)"
    )
    script.run("docker", "build", "-t", "${GATEWAYS_IMAGE}", f"{out}/k8s/gateways")
    script.run("docker", "push", "${GATEWAYS_IMAGE}")
    key = _google_identity(script, "gateways", ["roles/datastore.user",
                                                "roles/pubsub.publisher"], project)  # fmt: skip
    script.run("kubectl", "apply", "-f", f"{out}/k8s/namespace.yaml")
    files = " ".join(f'--from-file={a}="{SECRETS}/mqtt-{a}"' for a in accounts)
    apply = "--dry-run=client -o yaml | kubectl apply -f -"
    script.raw(f"kubectl -n stratus create secret generic stratus-mqtt-accounts {files} {apply}")
    script.raw(f'kubectl -n stratus create secret generic stratus-google-credentials '
               f'--from-literal=key.json="${{{key}}}" {apply}')  # fmt: skip
    script.raw(f'kubectl -n stratus create secret generic stratus-jwt-public-keys '
               f'--from-literal=latest="${{PUBLIC_KEYS}}" {apply}')  # fmt: skip
    script.run("kubectl", "-n", "stratus", "delete", "job", "stratus-broker-setup",
               "--ignore-not-found")  # fmt: skip
    for part in ("broker", "bridge", "websocket"):
        script.raw(f'sed "s|image: {kube.IMAGE}|image: ${{GATEWAYS_IMAGE}}|" '
                   f"{out}/k8s/{part}.yaml | kubectl apply -f -")  # fmt: skip
    script.raw("until MQTT_HOST=$(kubectl -n stratus get service stratus-broker -o "
               "jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0]"
               ".hostname}') && [ -n \"${MQTT_HOST}\" ]; do sleep 5; done")  # fmt: skip


def plan(manifest: Manifest, apihost: str, namespace: str, project: str, region: str,
         out: str = "dist", docker: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The whole OpenWhisk deployment of `manifest` as a bash script; `docker` names the
    functions whose zips run on the generated runtime image."""
    g = gcloud(project)
    script = Plan(f"Stratus on Apache OpenWhisk: API host {apihost}, namespace {namespace}; "
                  f"Firestore and Pub/Sub on Google Cloud project {project}")  # fmt: skip
    script.raw(': "${STRATUS_REGISTRY:?set STRATUS_REGISTRY to an image registry the cluster '
               'and OpenWhisk pull from}"')  # fmt: skip
    script.section("Artefacts (reproducible: the same tree gives the same bytes)")
    script.run("python", "-m", "infra", "build", "--target", "openwhisk", "--out", out)
    if docker:
        script.note(f"{', '.join(docker)}: dependencies over 48 MiB, so a runtime image")
        script.raw(f"OPENWHISK_IMAGE=${{STRATUS_REGISTRY}}/stratus-openwhisk:"
                   f"$(cat {out}/openwhisk/image.tag)")  # fmt: skip
        script.run("docker", "build", "-t", "${OPENWHISK_IMAGE}", f"{out}/openwhisk/image")
        script.run("docker", "push", "${OPENWHISK_IMAGE}")
    accounts = sorted({BROKER_ADMIN, *kube.bridge_accounts()} | {
        account for spec in manifest.functions.values()
        for account in mqtt_accounts(needs(spec, manifest)).values()})  # fmt: skip
    _secret_files(script, manifest, accounts)
    script.section("Google Cloud: the data the functions use")
    number = command(*g("projects", "describe", project, "--format=value(projectNumber)"))
    script.raw(f"PROJECT_NUMBER=$({number})")
    script.run(*g("services", "enable", "firestore.googleapis.com", "pubsub.googleapis.com",
                  "iam.googleapis.com"))  # fmt: skip
    firestore_steps(script, manifest, project, region)
    _cluster(script, out, accounts, project)
    script.section("Actions (package stratus): raw web actions, configuration as parameters")
    script.run("wsk", "--apihost", apihost, "package", "update", manifest.service)
    for spec in manifest.functions.values():
        _action(script, manifest, spec, project, apihost, out, spec.name in docker)

    def endpoint(sub: SubscriptionSpec) -> str:  # the secured web action, the topic in its path
        action = f"https://{apihost}/api/v1/web/{namespace}/{manifest.service}/{sub.function}"
        return f"{action}.http/projects/{project}/topics/{sub.topic}?token=${{PUSH_TOKEN}}"

    pubsub_steps(script, manifest, project, Push(endpoint, lambda sub: []), schedules=False)
    _schedules(script, manifest, apihost)
    script.section("API Gateway: every HTTP route under one host, each backend carrying its path")
    routes = f"{out}/openwhisk/api.json"
    script.raw(f"python -m infra api-spec --target openwhisk --apihost {apihost} "
               f"--namespace {namespace} > {routes}")  # fmt: skip
    script.run("wsk", "--apihost", apihost, "api", "create", "--config-file", routes)
    return script.text()
