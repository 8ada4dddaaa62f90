"""The gateway's tuning, with every default in this one place.

Read from `VIGIL_GATEWAY_*` environment variables (e.g.
`VIGIL_GATEWAY_DRAIN_RATE=50`); tests and embedders pass values directly.
Which broker, which credentials and which state directory come from
`vigil.settings.Settings`; this class only says how the gateway behaves.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigil.contract import MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE


class GatewaySettings(BaseSettings):
    """How a gateway batches, buffers, drains and reports."""

    model_config = SettingsConfigDict(env_prefix="VIGIL_GATEWAY_", extra="forbid", frozen=True)

    # Batching: a message closes at whichever bound comes first.
    batch_max_readings: int = Field(500, ge=1, le=MAX_READINGS_PER_MESSAGE)
    batch_max_age_s: float = Field(1.0, gt=0)

    # The disk backlog (store and forward). When full, the oldest message is
    # dropped and counted. 100 000 one-second batches is about a day offline.
    backlog_max_messages: int = Field(100_000, ge=1)
    backlog_max_bytes: int = Field(512 * 1024 * 1024, ge=MAX_PAYLOAD_BYTES)

    # Draining: a token bucket (messages per second, bursts of one second's
    # worth) and a window of unacknowledged publishes.
    drain_rate: float = Field(20.0, gt=0)
    max_in_flight: int = Field(50, ge=1, le=10_000)

    # Status: re-published (retained) with backlog and dropped every so often.
    heartbeat_s: float = Field(30.0, gt=0)

    # Reconnects, and pauses after a refused publish: doubling from min to max.
    reconnect_min_s: float = Field(1.0, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    keepalive_s: int = Field(30, ge=5, le=65_535)
    # Grace at a clean stop for the last PUBACKs and the offline status.
    shutdown_grace_s: float = Field(2.0, ge=0)

    # How often the reading source is polled (and the network serviced).
    poll_interval_s: float = Field(0.1, gt=0, le=5)

    # Serve Prometheus metrics on this port (all interfaces); None: do not serve.
    metrics_port: int | None = Field(None, ge=1, le=65_535)

    @model_validator(mode="after")
    def _backoff_bounds(self) -> Self:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be below reconnect_min_s")
        return self
