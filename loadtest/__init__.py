"""Load tests and benchmarks of the gateway, run from the project root: python -m loadtest.X."""
