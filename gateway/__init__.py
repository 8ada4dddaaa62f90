"""Edge gateways: batch readings into contract messages, publish QoS 1, store and forward."""
