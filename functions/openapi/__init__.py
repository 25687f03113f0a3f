"""The openapi function: publishes the OpenAPI description of the management API."""
