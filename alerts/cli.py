"""`vigil alerts run | list | ack | resolve` and `vigil orders list`."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from alerts.store import AlertStore
    from vigil.registry import Registry
    from vigil.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Alerts: the rules engine, alerts and escalation.")
orders_app = typer.Typer(no_args_is_help=True, help="Maintenance work orders.")

ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings file (YAML)", envvar="VIGIL_CONFIG")]


def _open(config: Path | None, with_oncall: bool = True) -> tuple[Settings, Registry, AlertStore]:
    """The settings, the registry and the alert store (migrated), with the
    on-call config when asked. The registry is parsed once: at 100,000
    sensors that takes a while."""
    from alerts.oncall import load_oncall_config
    from alerts.store import open_store
    from vigil.cli import fail, registry_or_exit, settings_or_exit
    from vigil.registry import ConfigError

    settings = settings_or_exit(config)
    registry = registry_or_exit(settings)
    oncall = None
    if with_oncall and settings.oncall is not None:
        try:
            oncall = load_oncall_config(settings.oncall)
        except ConfigError as exc:
            fail(f"invalid on-call config:\n{exc}", 2)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database, registry=registry, oncall=oncall, console_url=settings.console_url)
    return settings, registry, store


@contextmanager
def _store(config: Path | None) -> Iterator[AlertStore]:
    """The alert store for one command, closed afterwards whatever happens."""
    _, _, store = _open(config, with_oncall=False)
    try:
        yield store
    finally:
        store.close()


@app.command("run")
def run(
    metrics_port: Annotated[int | None, typer.Option(help="serve /metrics on 127.0.0.1:PORT")] = None,
    telemetry_every: Annotated[float, typer.Option(min=0, help="seconds between telemetry points in the platform bucket; 0: none")] = 10.0,
    config: ConfigOption = None,
) -> None:
    """Evaluate every reading against the rules, record alerts, notify and escalate, until Ctrl-C."""
    from alerts.notify import Dispatcher
    from alerts.notify.contact_points import notifiers_for
    from alerts.preventive import PreventiveScheduler
    from alerts.service import AlertsMetrics, AlertsService
    from alerts.sink import StoreSink
    from vigil.heap import freeze_startup_heap

    settings, registry, store = _open(config)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s alerts %(levelname)s %(name)s: %(message)s")
    oncall = store.oncall
    dispatcher = Dispatcher(store, notifiers_for(oncall.contact_points) if oncall else {})
    sink = StoreSink(store, dispatcher)
    metrics = AlertsMetrics()
    telemetry = None
    if telemetry_every > 0:
        from alerts.telemetry import AlertsTelemetry
        from vigil.registry import ConfigError

        try:  # a token that may write the `platform` bucket and nothing else
            telemetry = AlertsTelemetry(store, settings.influx_endpoint("alerts"), every_s=telemetry_every, engine_lag=metrics.lag_s)
        except ConfigError as exc:
            logging.getLogger("vigil.alerts").warning("no telemetry for the dashboards: %s", exc)
    service = AlertsService(registry, settings.mqtt_endpoint("alerts"), sink, telemetry=telemetry, metrics=metrics)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1", registry=service.metrics.registry)
    preventive = PreventiveScheduler(store, settings.database)
    preventive.start()
    freeze_startup_heap()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sink.start(stop)
    try:
        service.run(stop)
    finally:
        preventive.shutdown(wait=False)
        sink.join()
        store.close()


def _alert_row(a: Any) -> dict[str, Any]:
    return {
        "id": a.id, "state": str(a.state), "severity": str(a.severity), "rule": a.rule_id, "sensor": a.sensor,
        "asset": a.asset, "summary": a.summary, "value": a.value, "limit": a.limit,
        "since": a.since.isoformat() if a.since else None, "updated": a.updated_at.isoformat() if a.updated_at else None,
        "silenced": bool(getattr(a, "silenced", False)), "caused_by": getattr(a, "caused_by", None),
    }


@app.command("list")
def list_alerts(
    state: Annotated[str | None, typer.Option(help="pending, firing, acknowledged or resolved")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    config: ConfigOption = None,
) -> None:
    """Alerts, newest first."""
    from vigil.cli import fail

    if state is not None and state not in ("pending", "firing", "acknowledged", "resolved"):
        fail(f"--state must be pending, firing, acknowledged or resolved, not {state!r}", 2)
    with _store(config) as store:
        rows = [_alert_row(a) for a in store.list_alerts(state=state)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    for r in rows:
        typer.echo(f"#{r['id']:<5} {r['state']:12} {r['severity']:8} {r['since'] or '':25} {r['summary']}")
    if not rows:
        typer.echo("no alerts")


@app.command("ack")
def ack(
    alert_id: Annotated[int, typer.Argument(help="alert id")],
    by: Annotated[str, typer.Option(help="who acknowledges")],
    note: Annotated[str | None, typer.Option(help="what is being done")] = None,
    config: ConfigOption = None,
) -> None:
    """Acknowledge an alert: escalation stops; the note goes into the audit trail."""
    _transition(config, "acknowledge", alert_id, by, note)


@app.command("resolve")
def resolve(
    alert_id: Annotated[int, typer.Argument(help="alert id")],
    by: Annotated[str, typer.Option(help="who resolves")],
    note: Annotated[str | None, typer.Option(help="corrective action taken")] = None,
    config: ConfigOption = None,
) -> None:
    """Resolve an alert by hand (with the corrective action as the note)."""
    _transition(config, "resolve", alert_id, by, note)


def _transition(config: Path | None, action: str, alert_id: int, by: str, note: str | None) -> None:
    from alerts.store import AlertNotFound, InvalidAlertTransition
    from vigil.cli import fail

    with _store(config) as store:
        try:
            alert = getattr(store, action)(alert_id, by, note, now=datetime.now(UTC))
        except AlertNotFound:
            fail(f"no alert #{alert_id}", 1)
        except InvalidAlertTransition as exc:
            fail(str(exc), 1)
    typer.echo(f"#{alert.id} is now {alert.state}")


@orders_app.command("list")
def list_orders(
    state: Annotated[str | None, typer.Option(help="open, assigned, responded, resolved or closed")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    config: ConfigOption = None,
) -> None:
    """Maintenance work orders with their SLA state."""
    with _store(config) as store:
        orders = store.list_work_orders(state=state)
        rows = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(o).items() if not k.startswith("_")}
                for o in orders]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
        return
    for r in rows:
        typer.echo(f"#{r.get('id')!s:<5} {r.get('state')!s:10} {r.get('priority')!s:10} {r.get('asset')!s:22} {r.get('title') or r.get('problem')}")
    if not rows:
        typer.echo("no work orders")


def _order_action(config: Path | None, action: str, order_id: int, *args: str | None) -> None:
    from alerts.store import WorkOrderNotFound
    from vigil.cli import fail

    with _store(config) as store:
        try:
            order = getattr(store, f"{action}_work_order")(order_id, *args)
        except WorkOrderNotFound:
            fail(f"no work order #{order_id}", 1)
        except ValueError as exc:
            fail(str(exc), 1)
    typer.echo(f"work order #{order.id} is now {order.state}")


@orders_app.command("assign")
def assign_order(order_id: Annotated[int, typer.Argument()], to: Annotated[str, typer.Option(help="who does the work")],
                 by: Annotated[str, typer.Option()], note: Annotated[str | None, typer.Option()] = None,
                 config: ConfigOption = None) -> None:
    """Assign a work order to a technician."""
    _order_action(config, "assign", order_id, to, by, note)


@orders_app.command("respond")
def respond_order(order_id: Annotated[int, typer.Argument()], by: Annotated[str, typer.Option()],
                  note: Annotated[str | None, typer.Option()] = None, config: ConfigOption = None) -> None:
    """Record the response (on site, or the fault acknowledged): the response SLA stops."""
    _order_action(config, "respond", order_id, by, note)


@orders_app.command("resolve")
def resolve_order(order_id: Annotated[int, typer.Argument()], by: Annotated[str, typer.Option()],
                  note: Annotated[str | None, typer.Option(help="what was done")] = None, config: ConfigOption = None) -> None:
    """Record the fix: the resolution SLA stops."""
    _order_action(config, "resolve", order_id, by, note)


@orders_app.command("close")
def close_order(order_id: Annotated[int, typer.Argument()], by: Annotated[str, typer.Option()],
                note: Annotated[str | None, typer.Option(help="verification")] = None, config: ConfigOption = None) -> None:
    """Close a resolved work order after verification."""
    _order_action(config, "close", order_id, by, note)


@app.command("silence")
def silence(
    by: Annotated[str, typer.Option(help="who silences")],
    reason: Annotated[str, typer.Option(help="why, e.g. 'compressor replaced, WO #12'")],
    hours: Annotated[float, typer.Option(min=0.01, help="how long")] = 2.0,
    asset: Annotated[str | None, typer.Option()] = None,
    sensor: Annotated[str | None, typer.Option()] = None,
    building: Annotated[str | None, typer.Option()] = None,
    rule: Annotated[str | None, typer.Option(help="rule id")] = None,
    maintenance: Annotated[bool, typer.Option("--maintenance", help="a maintenance window rather than a silence")] = False,
    config: ConfigOption = None,
) -> None:
    """Page nobody for matching alerts for a while; they are still recorded."""
    from datetime import timedelta

    from vigil.cli import fail

    if not any((asset, sensor, building, rule)):
        fail("name what to silence: --asset, --sensor, --building or --rule", 2)
    with _store(config) as store:
        try:
            s = store.add_silence(created_by=by, reason=reason, duration=timedelta(hours=hours), asset=asset, sensor=sensor,
                                  building=building, rule_id=rule, kind="maintenance" if maintenance else "silence")
        except ValueError as exc:
            fail(str(exc), 2)
    typer.echo(f"{s.kind} #{s.id} until {s.ends_at.isoformat()}")


@app.command("silences")
def silences(as_json: Annotated[bool, typer.Option("--json")] = False, config: ConfigOption = None) -> None:
    """Silences and maintenance windows in force now."""
    with _store(config) as store:
        rows = [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(s).items()}
                for s in store.list_silences(active_at=datetime.now(UTC))]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        target = ", ".join(f"{k}={r[k]}" for k in ("asset", "sensor", "building", "rule_id") if r.get(k))
        typer.echo(f"#{r['id']:<4} {r['kind']:11} until {r['ends_at']}  {target}  ({r['created_by']}: {r['reason']})")
    if not rows:
        typer.echo("no silences in force")


@app.command("unsilence")
def unsilence(silence_id: Annotated[int, typer.Argument()], by: Annotated[str, typer.Option()], config: ConfigOption = None) -> None:
    """End a silence or maintenance window now."""
    from vigil.cli import fail

    with _store(config) as store:
        try:
            s = store.expire_silence(silence_id, by)
        except (LookupError, ValueError) as exc:
            fail(str(exc) or f"no silence #{silence_id}", 1)
    typer.echo(f"{s.kind} #{s.id} ended")
