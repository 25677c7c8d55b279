"""Airside call center service."""
