"""Airside's development and test tooling: `airside-dev`, child processes, the pytest harness.

A distribution of its own (airside-tools) so the service images, which install only airside-shared
and the service, carry nothing that does not serve requests (docs/architecture.md).
"""
