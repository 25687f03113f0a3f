"""The JWKS function: publishes the public keys that verify Stratus tokens."""
