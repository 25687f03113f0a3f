"""The orgs function: the caller's organisation (tenant)."""
