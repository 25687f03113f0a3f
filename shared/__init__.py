"""Stratus' common library: function shape, HTTP and event envelopes, errors, settings, ports."""
