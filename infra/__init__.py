"""Deployment tooling: `python -m infra build|plan|deploy` for Cloud Run and OpenWhisk, from
serverless.yml (see infra/README.md)."""
