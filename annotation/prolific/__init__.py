"""Prolific through its API: one client (client.py), the round's services (services.py), beat/webhook sync."""
