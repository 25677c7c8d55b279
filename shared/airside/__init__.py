"""Airside's shared platform: one definition of events, delivery, auth and HTTP conventions."""
