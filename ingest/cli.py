"""`vigil ingest run | deadletters`."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Ingest readings from MQTT into InfluxDB.")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings file (YAML)", envvar="VIGIL_CONFIG")]


def _make_worker(config: Path | None, index: int, options: dict[str, object], telemetry_every: float = 0.0):  # type: ignore[no-untyped-def]
    """The worker, and its telemetry when asked for: both on one parse of the
    registry (at 100,000 sensors a parse takes half a minute)."""
    from ingest.telemetry import IngestTelemetry
    from ingest.worker import IngestOptions, IngestWorker
    from vigil.cli import registry_or_exit, settings_or_exit

    settings = settings_or_exit(config)
    logging.basicConfig(level=settings.log_level, format=f"%(asctime)s ingest[{index}] %(levelname)s %(message)s")
    registry = registry_or_exit(settings)
    worker = IngestWorker(registry, settings.mqtt_endpoint("ingest"), settings.influx_endpoint("ingest"),
                          index=index, state_dir=settings.state_dir, options=IngestOptions.model_validate(options))
    telemetry = None
    if telemetry_every > 0:  # the `platform` bucket for the dashboards; worker 0 alone reports the gateways
        telemetry = IngestTelemetry(registry, settings.mqtt_endpoint("ingest"), settings.influx_endpoint("ingest"),
                                    worker.metrics.registry, worker=index, every_s=telemetry_every, watch_gateways=index == 0)
    return worker, telemetry


def _worker_main(config: Path | None, index: int, metrics_port: int | None, options: dict[str, object],
                 telemetry_every: float = 10.0) -> None:
    """One worker process: runs until SIGTERM or SIGINT."""
    from prometheus_client import start_http_server

    from vigil.heap import freeze_startup_heap

    worker, telemetry = _make_worker(config, index, options, telemetry_every)
    freeze_startup_heap()
    if metrics_port:
        start_http_server(metrics_port + index, addr="127.0.0.1", registry=worker.metrics.registry)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if telemetry is not None:
        telemetry.start(stop)
    profile_to = os.environ.get("VIGIL_PROFILE")  # for `vigil bench ingest`: where the CPU goes
    if profile_to:
        import cProfile

        cProfile.runctx("worker.run(stop)", globals(), {"worker": worker, "stop": stop}, f"{profile_to}.{index}")
    else:
        worker.run(stop)


@app.command("run")
def run(
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker processes on the shared subscription")] = 1,
    metrics_port: Annotated[int | None, typer.Option(help="serve /metrics on 127.0.0.1:PORT+worker index")] = None,
    gzip: Annotated[bool, typer.Option(help="gzip write bodies (see `vigil bench ingest`)")] = False,
    subscription: Annotated[str, typer.Option(help="partitioned (survives Mosquitto restarts) or shared ($share group)")] = "partitioned",
    telemetry_every: Annotated[float, typer.Option(min=0, help="seconds between telemetry points in the platform bucket; 0: none")] = 10.0,
    writes_in_flight: Annotated[int, typer.Option(min=1, max=8, help="batches each worker writes to InfluxDB at once")] = 2,
    config: ConfigOption = None,
) -> None:
    """Run ingest workers until Ctrl-C or SIGTERM."""
    from vigil.cli import fail, settings_or_exit

    if subscription not in ("partitioned", "shared"):
        fail(f"--subscription must be partitioned or shared, not {subscription!r}", 2)
    options: dict[str, object] = {"gzip": gzip, "workers": workers, "subscription": subscription, "writes_in_flight": writes_in_flight}
    # Sessions of workers that are no longer wanted would keep collecting
    # their share in the broker: drain them and end them first.
    record = settings_or_exit(config).state_dir / "ingest" / "workers.json"
    try:
        previous = int(json.loads(record.read_text())["workers"])
    except (OSError, ValueError, KeyError):
        previous = workers
    for index in range(workers, previous):
        typer.echo(f"retiring ingest worker {index} (now {workers} workers)", err=True)
        _make_worker(config, index, options)[0].retire()
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"workers": workers}))

    if workers == 1:
        _worker_main(config, 0, metrics_port, options, telemetry_every)
        return
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker_main, args=(config, i, metrics_port, options, telemetry_every), name=f"ingest-{i}") for i in range(workers)]
    for p in procs:
        p.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        if any(not p.is_alive() for p in procs):
            typer.echo("an ingest worker exited; stopping the others", err=True)
            break
    for p in procs:
        if p.pid is not None and p.is_alive():
            p.terminate()
    for p in procs:
        p.join(30)


@app.command("deadletters")
def deadletters(
    since: Annotated[str, typer.Option(help="how far back, as a Flux duration (1h, 7d)")] = "24h",
    reason: Annotated[str | None, typer.Option(help="only this reason")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    config: ConfigOption = None,
) -> None:
    """List rejected messages and readings with their reasons, newest first."""
    import re

    from influxdb_client import InfluxDBClient

    from vigil.cli import fail, settings_or_exit

    if not re.fullmatch(r"\d+(ms|s|m|h|d|w)", since):
        fail(f"--since must be a duration such as 30m, 24h or 7d, not {since!r}", 2)
    if reason is not None and not re.fullmatch(r"[a-z_]+", reason):
        fail(f"--reason must be a reason name such as bad_unit, not {reason!r}", 2)
    settings = settings_or_exit(config)
    ep = settings.influx_endpoint("reader")
    reason_filter = f'|> filter(fn: (r) => r.reason == "{reason}")' if reason else ""
    query = f'''
        from(bucket: "deadletter") |> range(start: -{since})
          |> filter(fn: (r) => r._measurement == "rejected") {reason_filter}
          |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
          |> group() |> sort(columns: ["_time"], desc: true) |> limit(n: {limit})'''
    with InfluxDBClient(url=ep.url, token=ep.token.get_secret_value(), org=ep.org) as client:
        rows = [
            {"time": r.get_time().isoformat(), "reason": r.values.get("reason"), "gateway": r.values.get("gateway"),
             "site": r.values.get("site"), "detail": r.values.get("detail"), "topic": r.values.get("topic"),
             "seq": r.values.get("seq"), "index": r.values.get("index"), "payload": r.values.get("payload")}
            for table in client.query_api().query(query) for r in table.records
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        typer.echo(f"{row['time']}  {row['reason']:18} {row['gateway']:16} {row['detail']}")
    if not rows:
        typer.echo(f"no dead letters in the last {since}")
