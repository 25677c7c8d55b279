"""Airside booking service."""
