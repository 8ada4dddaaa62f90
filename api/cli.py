"""`vigil api serve` and `vigil tokens create|list|revoke`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigil.registry import ConfigError
from vigil.settings import Settings, load_settings

app = typer.Typer(help="The HTTP API.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens (stored hashed in the alert store's database).", no_args_is_help=True)



@app.callback()
def _api() -> None:
    """The HTTP API (a group even with one command, so `vigil api serve` reads as it should)."""


ConfigOption = Annotated[Path | None, typer.Option("--config", "-c", help="settings file (default: ./vigil.yaml)")]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1")] = 8080,
) -> None:
    """Serve the API on 127.0.0.1 (put a TLS reverse proxy in front to expose it)."""
    import uvicorn

    from alerts.oncall import OnCallConfig, load_oncall_config
    from alerts.store import open_store
    from api.app import create_app
    from vigil.registry import load_registry

    settings = _settings(config)
    try:
        registry = load_registry(settings.facility)
        oncall = load_oncall_config(settings.oncall) if settings.oncall else OnCallConfig()
        store = open_store(settings.database, registry=registry, oncall=oncall, console_url=settings.console_url)
        api = create_app(settings, registry, store)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        uvicorn.run(api, host="127.0.0.1", port=port, log_level=settings.log_level.lower())
    finally:
        store.close()


def _engine(config: Path | None):  # type: ignore[no-untyped-def]
    from alerts.store.db import create_store_engine
    from api.tokens import ensure_token_table

    engine = create_store_engine(_settings(config).database)
    ensure_token_table(engine)
    return engine


@tokens_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="who or what uses it; the audit trail shows this name")],
    role: Annotated[str, typer.Option("--role", help="viewer, technician, oncall or admin")],
    config: ConfigOption = None,
) -> None:
    """Create a token and print it once (only its hash is stored)."""
    from api.roles import Role
    from api.tokens import TokenNameTaken, create_token

    try:
        chosen = Role(role)
    except ValueError:
        typer.echo(f"--role must be one of {', '.join(r.value for r in Role)}, not {role!r}", err=True)
        raise typer.Exit(2) from None
    engine = _engine(config)
    try:
        token, secret = create_token(engine, name, chosen)
    except (TokenNameTaken, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"created token {token.name!r} ({token.role.value}); it is shown only now:", err=True)
    typer.echo(secret)


@tokens_app.command("list")
def list_(config: ConfigOption = None) -> None:
    """Names, roles and dates of the tokens (never the secrets)."""
    from api.tokens import list_tokens

    engine = _engine(config)
    try:
        tokens = list_tokens(engine)
    finally:
        engine.dispose()
    if not tokens:
        typer.echo("no tokens; create one with `vigil tokens create --name NAME --role ROLE`")
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        typer.echo(f"{t.name:<30} {t.role.value:<11} created {t.created_at:%Y-%m-%d %H:%M}  {state}")


@tokens_app.command("revoke")
def revoke(name: Annotated[str, typer.Option("--name")], config: ConfigOption = None) -> None:
    """Revoke a token at once."""
    from api.tokens import revoke_token

    engine = _engine(config)
    try:
        done = revoke_token(engine, name)
    finally:
        engine.dispose()
    if not done:
        typer.echo(f"no live token {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {name!r}")
