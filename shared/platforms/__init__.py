"""Entry-point adapters: one per platform, written once here and used by every function's main.py.

- `functions_framework`: Cloud Run / functions-framework targets (http and cloud_event signatures);
- `openwhisk`: Apache OpenWhisk web actions and trigger actions (`main(args)`);
- the emulator's host calls the function objects directly (see `emulator/host`).
"""
