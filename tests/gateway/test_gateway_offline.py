"""The gateway with no broker to talk to: everything waits on disk, and a
full backlog drops the oldest messages and says so."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY
from pydantic import SecretStr

from gateway import GatewaySettings
from gateway.backlog import Backlog
from gateway.gateway import backlog_path
from tests.gateway.conftest import FAST, StartGateway
from tests.gateway.harness import CountingSource, wait_for
from vigil.contract import Reading, decode_readings
from vigil.infra.process import free_port
from vigil.registry import Gateway as GatewayConfig
from vigil.settings import MqttEndpoint


def nowhere() -> MqttEndpoint:
    """A port nobody listens on: every connection attempt is refused."""
    return MqttEndpoint("127.0.0.1", free_port(), "gw-x", SecretStr("unused"))


def on_disk(state_dir: Path, gateway_id: str) -> list[tuple[int, list[float]]]:
    with Backlog(backlog_path(state_dir, gateway_id), 10**6, 10**9) as backlog:
        messages = [decode_readings(m.payload) for m in backlog.oldest(10**6)]
    return [(m.seq, [float(r.value) for r in m.readings]) for m in messages]


def test_gateway_without_a_broker_keeps_every_batch_on_disk(start_gateway: StartGateway, tmp_path: Path) -> None:
    config = GatewayConfig("gw-offline-keep", "north", "offline")
    source = CountingSource()
    running = start_gateway(config, nowhere(), source)
    source.emit(50)
    assert wait_for(lambda: running.gateway.stats().seq == 3)
    stats = running.gateway.stats()
    assert (stats.backlog, stats.published, stats.connected) == (3, 0, False)
    running.stop()
    saved = on_disk(tmp_path, config.id)
    assert [seq for seq, _ in saved] == [1, 2, 3]
    assert [v for _, values in saved for v in values] == [float(i) for i in range(50)]


def test_readings_still_in_the_open_batch_are_kept_at_a_clean_stop(start_gateway: StartGateway, tmp_path: Path) -> None:
    config = GatewayConfig("gw-offline-flush", "north", "offline")
    source = CountingSource()
    running = start_gateway(config, nowhere(), source, FAST.model_copy(update={"batch_max_age_s": 60}))
    source.emit(5)
    assert wait_for(lambda: source.delivered == 5)
    running.stop()
    assert on_disk(tmp_path, config.id) == [(1, [0.0, 1.0, 2.0, 3.0, 4.0])]


def test_full_backlog_drops_the_oldest_and_reports_it(start_gateway: StartGateway, tmp_path: Path) -> None:
    config = GatewayConfig("gw-offline-drops", "north", "offline")
    settings = FAST.model_copy(update={"batch_max_readings": 1, "backlog_max_messages": 3})
    source = CountingSource()
    running = start_gateway(config, nowhere(), source, settings)
    source.emit(8)
    assert wait_for(lambda: running.gateway.stats().seq == 8)
    assert running.gateway.stats().dropped == 5
    labels = {"gateway": config.id}
    assert REGISTRY.get_sample_value("vigil_gateway_messages_dropped_total", labels) == 5
    # The gauges follow at the end of the gateway's loop step.
    assert wait_for(lambda: REGISTRY.get_sample_value("vigil_gateway_dropped_messages", labels) == 5)
    assert REGISTRY.get_sample_value("vigil_gateway_backlog_messages", labels) == 3
    running.stop()
    # The newest survive, and the count of what was lost survives a restart.
    assert [values for _, values in on_disk(tmp_path, config.id)] == [[5.0], [6.0], [7.0]]
    again = start_gateway(config, nowhere(), CountingSource(), settings)
    assert again.gateway.stats().dropped == 5
    again.stop()


class FlakySource(CountingSource):
    """Fails every other poll."""

    def __init__(self) -> None:
        super().__init__()
        self.polls = 0

    def poll(self) -> list[Reading]:
        self.polls += 1
        if self.polls % 2:
            raise OSError("fieldbus timeout")
        return super().poll()


def test_a_failing_source_is_counted_and_does_not_stop_the_gateway(start_gateway: StartGateway, tmp_path: Path) -> None:
    config = GatewayConfig("gw-offline-flaky", "north", "offline")
    source = FlakySource()
    running = start_gateway(config, nowhere(), source, GatewaySettings(batch_max_age_s=0.05, poll_interval_s=0.01))
    source.emit(10)
    assert wait_for(lambda: running.gateway.stats().seq == 1)
    assert running.thread.is_alive()
    assert (REGISTRY.get_sample_value("vigil_gateway_source_errors_total", {"gateway": config.id}) or 0) >= 1
    running.stop()
    assert on_disk(tmp_path, config.id) == [(1, [float(i) for i in range(10)])]
