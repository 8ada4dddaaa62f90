"""The HTTP API and the on-call web console."""
