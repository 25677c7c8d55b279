"""Airside lounge service."""
