"""`python -m infra`: build the artefacts, print the plan, deploy it (see infra/README.md).

python -m infra build --target cloudrun|openwhisk --out DIR [--function NAME ...]
python -m infra plan --target cloudrun --project P [--region R] [--out DIR]
python -m infra plan --target openwhisk --apihost H --project P [--namespace NS] [--region R]
python -m infra deploy <the plan's arguments>     (runs exactly the plan)
python -m infra api-spec ...                      (the API Gateway description; the plan uses it)
python -m infra jwks [--keep JWKS] < key.pem      (the public keys of a signing key)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra import cloudrun, kube, openwhisk
from shared.manifest import Manifest, ManifestError, load

__all__ = ["main"]


def _manifest(args: argparse.Namespace) -> Manifest:
    return load(args.manifest)


def _names(manifest: Manifest, wanted: list[str]) -> list[str]:
    unknown = sorted(set(wanted) - set(manifest.functions))
    if unknown:
        raise ManifestError(f"no function named {', '.join(unknown)} in the manifest")
    return wanted or list(manifest.functions)


def _build(args: argparse.Namespace) -> int:
    manifest = _manifest(args)
    out = Path(args.out)
    names = _names(manifest, args.function)
    if args.target == "cloudrun":
        for folder in cloudrun.build(manifest, out, names):
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            print(f"{folder}  {size / 1024:.0f} KiB")
    else:
        built = openwhisk.build(manifest, out, names, Path(args.cache) if args.cache else None)
        for name, path in built.zips.items():
            where = "  (code only: runs on openwhisk/image)" if name in built.docker else ""
            print(f"{path}  {path.stat().st_size / 2**20:.1f} MiB{where}")
    print(f"{kube.build(manifest, out)}  broker, bridges, WebSocket gateway")
    return 0


def _plan_text(args: argparse.Namespace) -> str:
    manifest = _manifest(args)
    region = args.region or str(manifest.cloudrun.get("region") or "")
    if not args.project or not region:
        raise ManifestError("--project is required, and --region unless the manifest names one")
    if args.target == "cloudrun":
        from infra.plan_cloudrun import plan

        return plan(manifest, args.project, region, args.out)
    if not args.apihost:
        raise ManifestError("--apihost is required for --target openwhisk")
    from infra.plan_openwhisk import plan as ow_plan

    docker = tuple(sorted(manifest.openwhisk_image_functions))
    return ow_plan(manifest, args.apihost, args.namespace, args.project, region, args.out, docker)


def _plan(args: argparse.Namespace) -> int:
    sys.stdout.write(_plan_text(args))
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from infra.deploy import run

    return run(args.target, _plan_text(args))


def _api_spec(args: argparse.Namespace) -> int:
    from infra import api

    manifest = _manifest(args)
    if args.target == "cloudrun":
        import yaml

        region = args.region or str(manifest.cloudrun.get("region") or "")
        document = api.cloudrun_spec(manifest, args.project, region, args.project_number)
        sys.stdout.write(yaml.safe_dump(document, sort_keys=False, width=100))
    else:
        document = api.openwhisk_spec(manifest, args.apihost, args.namespace)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


def _jwks(args: argparse.Namespace) -> int:
    from infra.keys import jwks_of

    sys.stdout.write(jwks_of(sys.stdin.buffer.read(), args.keep))
    return 0


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m infra", description=__doc__, formatter_class=raw
    )
    parser.add_argument("--manifest", default="serverless.yml")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the deployable artefacts")
    build.add_argument("--target", choices=["cloudrun", "openwhisk"], required=True)
    build.add_argument("--out", required=True, help="where the artefacts go (e.g. dist)")
    build.add_argument("--function", action="append", default=[], help="only these functions")
    build.add_argument("--cache", help="OpenWhisk: where the runtime virtualenv is kept")
    for name, run, text in (
        ("plan", _plan, "print every command that deploys Stratus"),
        ("deploy", _deploy, "run the plan (needs the target's credentials)"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.set_defaults(run=run)
        sub.add_argument("--target", choices=["cloudrun", "openwhisk"], required=True)
        sub.add_argument("--project", help="Google Cloud project (Firestore, Pub/Sub)")
        sub.add_argument("--region", help="default: custom.stratus.cloudrun.region")
        sub.add_argument("--apihost", help="OpenWhisk API host")
        sub.add_argument("--namespace", default="guest", help="OpenWhisk namespace")
        sub.add_argument("--out", default="dist", help="where the plan builds the artefacts")
    build.set_defaults(run=_build)
    spec = commands.add_parser("api-spec", help="the API Gateway description of every route")
    spec.set_defaults(run=_api_spec)
    spec.add_argument("--target", choices=["cloudrun", "openwhisk"], required=True)
    spec.add_argument("--project", default="")
    spec.add_argument("--region")
    spec.add_argument("--project-number", default="PROJECT_NUMBER")
    spec.add_argument("--apihost", default="")
    spec.add_argument("--namespace", default="guest")
    jwks = commands.add_parser("jwks", help="the JWKS of the PEM signing key on stdin")
    jwks.set_defaults(run=_jwks)
    jwks.add_argument("--keep", default="", help="a JWKS whose keys stay trusted (rotation)")
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ManifestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
