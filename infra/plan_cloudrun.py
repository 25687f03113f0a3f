"""The Cloud Run plan: Google Cloud from nothing for one project and region.

Order: the artefacts; APIs; secrets (signing key, public keys, broker accounts); Firestore;
Pub/Sub topics; one service account per function with only the roles it uses; the broker, the
bridges and the gateways image on GKE Autopilot; the function services; push subscriptions
(OIDC, `stratus-push`); Cloud Scheduler jobs for `schedule` events; the WebSocket gateway on
Cloud Run; one API Gateway host for every HTTP route.
"""

from __future__ import annotations

import hashlib
import json

from infra import kube
from infra.api import run_url
from infra.config import (
    BROKER_ADMIN,
    PUBLIC_KEYS_SECRET,
    SIGNING_KEY_SECRET,
    cron_of,
    deploy_environment,
    mqtt_accounts,
    mqtt_environment,
    mqtt_secret,
    secret_env,
    service_name,
)
from infra.needs import needs
from infra.plan import Plan, Push, command, firestore_steps, gcloud, pubsub_steps
from shared.manifest import FunctionSpec, Manifest, SubscriptionSpec

__all__ = ["plan", "service_account"]

APIS = [
    "apigateway.googleapis.com", "artifactregistry.googleapis.com", "cloudbuild.googleapis.com",
    "cloudscheduler.googleapis.com", "container.googleapis.com", "firestore.googleapis.com",
    "iam.googleapis.com", "pubsub.googleapis.com", "run.googleapis.com",
    "secretmanager.googleapis.com", "servicecontrol.googleapis.com",
    "servicemanagement.googleapis.com",
]  # fmt: skip


def service_account(stem: str, project: str) -> str:
    """`stratus-<stem>@<project>.iam...`; ids are 6 to 30 characters (long stems are hashed)."""
    account = f"stratus-{stem}"
    if len(account) > 30:
        account = f"stratus-{stem[:14]}-{hashlib.sha256(stem.encode()).hexdigest()[:6]}"
    return f"{account}@{project}.iam.gserviceaccount.com"


def _member(email: str) -> str:
    return f"--member=serviceAccount:{email}"


def _secrets(plan: Plan, manifest: Manifest, project: str) -> None:
    g = gcloud(project)
    plan.section("Secrets (Secret Manager): generated here, never written in a file or the plan")
    key = command(*g("secrets", "create", SIGNING_KEY_SECRET, "--replication-policy=automatic",
                     "--data-file=-"))  # fmt: skip
    plan.raw(
        f"{command(*g('secrets', 'describe', SIGNING_KEY_SECRET))} >/dev/null 2>&1 || "
        f"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 | {key}"
    )
    plan.ensure(
        g("secrets", "describe", PUBLIC_KEYS_SECRET),
        g("secrets", "create", PUBLIC_KEYS_SECRET, "--replication-policy=automatic"),
    )
    plan.note("the public keys: the signing key's, and every older one still trusted (rotation)")
    access = command(*g("secrets", "versions", "access", "latest"))
    plan.raw(
        f'CURRENT_JWKS=$({access} "--secret={PUBLIC_KEYS_SECRET}" 2>/dev/null || '
        "echo '{\"keys\":[]}')"
    )
    plan.raw(
        f'WANTED_JWKS=$({access} "--secret={SIGNING_KEY_SECRET}" | python -m infra jwks '
        '--keep "${CURRENT_JWKS}")'
    )
    add = command(*g("secrets", "versions", "add", PUBLIC_KEYS_SECRET, "--data-file=-"))
    plan.raw(
        f'[ "${{WANTED_JWKS}}" = "${{CURRENT_JWKS}}" ] || printf %s "${{WANTED_JWKS}}" | {add}'
    )
    for account in _all_accounts(manifest):
        create = command(*g("secrets", "create", mqtt_secret(account),
                            "--replication-policy=automatic", "--data-file=-"))  # fmt: skip
        plan.raw(
            f"{command(*g('secrets', 'describe', mqtt_secret(account)))} >/dev/null 2>&1 || "
            f"openssl rand -base64 24 | tr -d '\\n' | {create}"
        )


def _all_accounts(manifest: Manifest) -> list[str]:
    accounts = {BROKER_ADMIN, *kube.bridge_accounts()}
    for spec in manifest.functions.values():
        accounts.update(mqtt_accounts(needs(spec, manifest)).values())
    return sorted(accounts)


def _identity(plan: Plan, manifest: Manifest, spec: FunctionSpec, project: str) -> None:
    g = gcloud(project)
    email = service_account(spec.name, project)
    footprint = needs(spec, manifest)
    plan.ensure(
        g("iam", "service-accounts", "describe", email),
        g("iam", "service-accounts", "create", email.split("@")[0],
          f"--display-name=Stratus function {spec.name}"),
    )  # fmt: skip
    roles = (["roles/datastore.user"] if footprint.store else []) + (
        ["roles/pubsub.publisher"] if footprint.bus else []
    )
    for role in roles:
        plan.run(*g("projects", "add-iam-policy-binding", project, _member(email),
                    f"--role={role}", "--condition=None", "-q"))  # fmt: skip
    for item in secret_env(footprint):
        plan.run(*g("secrets", "add-iam-policy-binding", item.secret, _member(email),
                    "--role=roles/secretmanager.secretAccessor", "-q"))  # fmt: skip


def _deploy(plan: Plan, manifest: Manifest, spec: FunctionSpec, project: str, region: str,
            out: str) -> None:  # fmt: skip
    g = gcloud(project)
    footprint = needs(spec, manifest)
    env = {**deploy_environment(manifest, spec), "STRATUS_PROJECT": project}
    if footprint.mqtt:
        env |= {"STRATUS_MQTT_HOST": "${MQTT_HOST}", "STRATUS_MQTT_PORT": "1883",
                **mqtt_environment(footprint)}  # fmt: skip
    target = "http" if spec.routes else "event"
    public = bool(spec.routes) and spec.name not in manifest.private_functions
    words = [
        "run", "deploy", service_name(spec.name), f"--source={out}/cloudrun/{spec.name}",
        f"--region={region}", f"--service-account={service_account(spec.name, project)}",
        f"--set-build-env-vars=GOOGLE_FUNCTION_TARGET={target},GOOGLE_FUNCTION_SIGNATURE_TYPE=http",
        "--set-env-vars=^;^" + ";".join(f"{k}={v}" for k, v in sorted(env.items())),
        "--set-secrets=" + ",".join(f"{s.variable}={s.secret}:latest"
                                    for s in secret_env(footprint)),
        "--allow-unauthenticated" if public else "--no-allow-unauthenticated",
        f"--memory={spec.memory_mb or 512}Mi", f"--timeout={spec.timeout_seconds or 300}",
    ]  # fmt: skip
    if footprint.mqtt:  # one broker connection per account: one instance
        words.append("--max-instances=1")
    plan.run(*g(*words, "--quiet"))
    invoker = "push" if not spec.routes else ("gateway" if not public else "")
    if invoker:
        plan.run(*g("run", "services", "add-iam-policy-binding", service_name(spec.name),
                    f"--region={region}", _member(service_account(invoker, project)),
                    "--role=roles/run.invoker", "-q"))  # fmt: skip


def _gateway_identity(plan: Plan, stem: str, display: str, project: str) -> str:
    """A gateway's service account: it reads the store and publishes on the bus."""
    g = gcloud(project)
    email = service_account(stem, project)
    plan.ensure(g("iam", "service-accounts", "describe", email),
                g("iam", "service-accounts", "create", f"stratus-{stem}",
                  f"--display-name={display}"))  # fmt: skip
    for role in ("roles/datastore.user", "roles/pubsub.publisher"):
        plan.run(*g("projects", "add-iam-policy-binding", project, _member(email),
                    f"--role={role}", "--condition=None", "-q"))  # fmt: skip
    return email


def _broker(plan: Plan, project: str, region: str, out: str, accounts: list[str]) -> None:
    g = gcloud(project)
    plan.section(
        "MQTT broker, bridges and the gateways image (GKE Autopilot: Cloud Run has no TCP)"
    )
    plan.ensure(
        g("container", "clusters", "describe", "stratus", f"--region={region}"),
        g("container", "clusters", "create-auto", "stratus", f"--region={region}"),
    )
    plan.run(*g("container", "clusters", "get-credentials", "stratus", f"--region={region}"))
    plan.ensure(g("artifacts", "repositories", "describe", "stratus", f"--location={region}"),
                g("artifacts", "repositories", "create", "stratus", "--repository-format=docker",
                  f"--location={region}"))  # fmt: skip
    plan.raw(f"GATEWAYS_IMAGE={region}-docker.pkg.dev/{project}/stratus/gateways:"
             f"$(cat {out}/k8s/gateways.tag)")  # fmt: skip
    plan.ensure(
        g("artifacts", "docker", "images", "describe", "${GATEWAYS_IMAGE}"),
        g("builds", "submit", f"{out}/k8s/gateways", "--tag=${GATEWAYS_IMAGE}"),
    )
    plan.run("kubectl", "apply", "-f", f"{out}/k8s/namespace.yaml")
    literals = " ".join(
        f'--from-literal={account}="$(gcloud secrets versions access latest '
        f'--secret={mqtt_secret(account)} --project={project})"'
        for account in accounts
    )
    plan.raw(f"kubectl -n stratus create secret generic stratus-mqtt-accounts {literals} "
             "--dry-run=client -o yaml | kubectl apply -f -")  # fmt: skip
    for part in ("broker", "bridge"):
        plan.raw(f'sed "s|image: {kube.IMAGE}|image: ${{GATEWAYS_IMAGE}}|" '
                 f"{out}/k8s/{part}.yaml | kubectl apply -f -")  # fmt: skip
    email = _gateway_identity(plan, "bridge", "Stratus MQTT bridge", project)
    plan.run(
        *g(
            "iam",
            "service-accounts",
            "add-iam-policy-binding",
            email,
            "--role=roles/iam.workloadIdentityUser",
            f"--member=serviceAccount:{project}.svc.id.goog[stratus/stratus-bridge]",
            "-q",
        )
    )
    plan.run("kubectl", "-n", "stratus", "annotate", "serviceaccount", "stratus-bridge",
             f"iam.gke.io/gcp-service-account={email}", "--overwrite")  # fmt: skip
    plan.note("where functions and devices reach the broker (its LoadBalancer address)")
    plan.raw("until MQTT_HOST=$(kubectl -n stratus get service stratus-broker -o "
             "jsonpath='{.status.loadBalancer.ingress[0].ip}') && [ -n \"${MQTT_HOST}\" ]; "
             "do sleep 5; done")  # fmt: skip


def _websocket(plan: Plan, manifest: Manifest, project: str, region: str, out: str) -> None:
    g = gcloud(project)
    plan.section("WebSocket ingest gateway on Cloud Run (WebSockets; one instance stays warm)")
    email = _gateway_identity(plan, "websocket", "Stratus WebSocket gateway", project)
    plan.run(*g("secrets", "add-iam-policy-binding", PUBLIC_KEYS_SECRET, _member(email),
                "--role=roles/secretmanager.secretAccessor", "-q"))  # fmt: skip
    env = {**manifest.environment, "STRATUS_ENV": "production", "STRATUS_PROJECT": project}
    plan.run(*g("run", "deploy", "stratus-websocket", f"--source={out}/k8s/gateways",
                f"--region={region}", f"--service-account={email}",
                "--set-env-vars=^;^" + ";".join(f"{k}={v}" for k, v in sorted(env.items())),
                f"--set-secrets=STRATUS_JWT_PUBLIC_KEYS={PUBLIC_KEYS_SECRET}:latest",
                "--allow-unauthenticated", "--timeout=3600", "--min-instances=1",
                "--no-cpu-throttling", "--session-affinity", "--quiet"))  # fmt: skip


def _schedules(plan: Plan, manifest: Manifest, project: str, region: str) -> None:
    if not manifest.schedules:
        return
    g = gcloud(project)
    plan.section("Cloud Scheduler: each `schedule` event publishes its tick on schedule-<function>")
    for schedule in manifest.schedules:
        body = json.dumps({"function": schedule.function, "schedule": schedule.expression},
                          separators=(",", ":"))  # fmt: skip
        job = [f"--location={region}", f"--schedule={cron_of(schedule)}", "--time-zone=Etc/UTC",
               f"--topic={schedule.topic}", f"--message-body={body}"]  # fmt: skip
        attribute = f"schedule={schedule.expression}"
        name = service_name(schedule.function)
        plan.upsert(g("scheduler", "jobs", "describe", name, f"--location={region}"),
                    g("scheduler", "jobs", "update", "pubsub", name, *job,
                      f"--update-attributes={attribute}"),
                    g("scheduler", "jobs", "create", "pubsub", name, *job,
                      f"--attributes={attribute}"))  # fmt: skip


def _gateway(plan: Plan, project: str, region: str, out: str) -> None:
    g = gcloud(project)
    plan.section("API Gateway: every HTTP route under one host (OpenAPI with x-google-backend)")
    spec = f"{out}/cloudrun/api-gateway.yaml"
    plan.raw(f"python -m infra api-spec --target cloudrun --project {project} --region {region} "
             f'--project-number "${{PROJECT_NUMBER}}" > {spec}')  # fmt: skip
    plan.ensure(
        g("api-gateway", "apis", "describe", "stratus"),
        g("api-gateway", "apis", "create", "stratus"),
    )
    plan.raw(f"API_CONFIG=stratus-$(sha256sum {spec} | cut -c1-12)")
    plan.ensure(
        g("api-gateway", "api-configs", "describe", "${API_CONFIG}", "--api=stratus"),
        g(
            "api-gateway",
            "api-configs",
            "create",
            "${API_CONFIG}",
            "--api=stratus",
            f"--openapi-spec={spec}",
            f"--backend-auth-service-account={service_account('gateway', project)}",
        ),
    )
    place = ["--api=stratus", "--api-config=${API_CONFIG}", f"--location={region}"]
    plan.upsert(g("api-gateway", "gateways", "describe", "stratus", f"--location={region}"),
                g("api-gateway", "gateways", "update", "stratus", *place),
                g("api-gateway", "gateways", "create", "stratus", *place))  # fmt: skip
    host = command(
        *g(
            "api-gateway",
            "gateways",
            "describe",
            "stratus",
            f"--location={region}",
            "--format=value(defaultHostname)",
        )
    )
    plan.raw(f'echo "Stratus API: https://$({host})"')


def plan(manifest: Manifest, project: str, region: str, out: str = "dist") -> str:
    """The whole Cloud Run deployment of `manifest` as a bash script."""
    g = gcloud(project)
    script = Plan(f"Stratus on Google Cloud Run: project {project}, region {region}")
    script.section("Artefacts (reproducible: the same tree gives the same bytes)")
    script.run("python", "-m", "infra", "build", "--target", "cloudrun", "--out", out)
    script.section("Project")
    number = command(*g("projects", "describe", project, "--format=value(projectNumber)"))
    script.raw(f"PROJECT_NUMBER=$({number})")
    script.run(*g("services", "enable", *APIS))
    accounts = _all_accounts(manifest)
    _secrets(script, manifest, project)
    firestore_steps(script, manifest, project, region)
    script.section("Service accounts: Pub/Sub pushes (OIDC), the API Gateway")
    for stem, what in (("push", "Pub/Sub push (OIDC)"), ("gateway", "API Gateway backend")):
        email = service_account(stem, project)
        script.ensure(g("iam", "service-accounts", "describe", email),
                      g("iam", "service-accounts", "create", email.split("@")[0],
                        f"--display-name=Stratus {what}"))  # fmt: skip
    _broker(script, project, region, out, accounts)
    for spec in manifest.functions.values():
        script.section(f"Function {spec.name}: its service account, roles and service")
        _identity(script, manifest, spec, project)
        _deploy(script, manifest, spec, project, region, out)

    def endpoint(sub: SubscriptionSpec) -> str:  # the topic in the path, as the framework reads
        url = run_url(sub.function, "${PROJECT_NUMBER}", region)
        return f"{url}/projects/{project}/topics/{sub.topic}"

    def auth(sub: SubscriptionSpec) -> list[str]:  # Cloud Run checks the token and its audience
        audience = run_url(sub.function, "${PROJECT_NUMBER}", region)
        return [f"--push-auth-service-account={service_account('push', project)}",
                f"--push-auth-token-audience={audience}"]  # fmt: skip

    pubsub_steps(script, manifest, project, Push(endpoint, auth))
    _schedules(script, manifest, project, region)
    _websocket(script, manifest, project, region, out)
    _gateway(script, project, region, out)
    return script.text()
