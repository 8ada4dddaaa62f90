"""Prometheus metrics of the gateway process, labelled by gateway id."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

READINGS = Counter("vigil_gateway_readings_total", "Readings taken from the reading source.", ["gateway"])
MESSAGES_ENQUEUED = Counter("vigil_gateway_messages_enqueued_total", "Readings messages written to the disk backlog.", ["gateway"])
MESSAGES_PUBLISHED = Counter("vigil_gateway_messages_published_total",
                             "Readings messages acknowledged by the broker (PUBACK).", ["gateway"])
MESSAGES_DROPPED = Counter("vigil_gateway_messages_dropped_total",
                           "Readings messages dropped, oldest first, because the backlog was full.", ["gateway"])
PUBLISH_REFUSED = Counter("vigil_gateway_publish_refused_total",
                          "PUBACKs carrying a failure reason code (the message is kept and retried).", ["gateway", "reason"])
SOURCE_ERRORS = Counter("vigil_gateway_source_errors_total", "Reading source polls that raised.", ["gateway"])
CONNECTS = Counter("vigil_gateway_connects_total", "Successful connections to the broker.", ["gateway"])

BACKLOG_MESSAGES = Gauge("vigil_gateway_backlog_messages", "Messages on disk waiting for a PUBACK.", ["gateway"])
BACKLOG_BYTES = Gauge("vigil_gateway_backlog_bytes", "Payload bytes on disk waiting for a PUBACK.", ["gateway"])
DROPPED = Gauge("vigil_gateway_dropped_messages", "Messages dropped since the backlog was created (persisted).", ["gateway"])
IN_FLIGHT = Gauge("vigil_gateway_in_flight_messages", "Published messages not yet acknowledged.", ["gateway"])
CONNECTED = Gauge("vigil_gateway_connected", "1 while connected to the broker.", ["gateway"])
SEQ = Gauge("vigil_gateway_last_seq", "The last seq assigned to a readings message.", ["gateway"])
