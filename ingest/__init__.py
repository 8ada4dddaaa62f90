"""Ingest: validate readings, enrich them from the registry, write them to InfluxDB."""
