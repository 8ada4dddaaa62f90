"""Edge gateways: batch readings into contract messages, publish QoS 1, store and forward.

`Gateway` is the process for one gateway id; `ReadingSource` is what it reads
from; `GatewaySettings` holds its tuning. See gateway/README.md.
"""

from gateway.gateway import Gateway, GatewayStats, ReadingSource
from gateway.settings import GatewaySettings

__all__ = ["Gateway", "GatewaySettings", "GatewayStats", "ReadingSource"]
