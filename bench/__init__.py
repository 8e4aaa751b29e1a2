"""Benchmarks of the platform's services (not tests): ``python -m bench [name ...]``."""
