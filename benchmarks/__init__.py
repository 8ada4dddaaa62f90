"""Benchmarks: scripts that print figures (`vigil bench ...`), never timed tests."""
