"""Alerts: the streaming rules engine, alert lifecycle, escalation and work orders."""
