"""Test harness shared by every service's tests: real NATS processes, real databases, tokens."""
