"""Load-testing harness and benchmarks for Stratus (`python -m bench --help`)."""
