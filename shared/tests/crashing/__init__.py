"""A service whose routes fail on purpose, for test_failures.py."""
