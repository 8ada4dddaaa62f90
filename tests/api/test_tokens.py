"""API tokens: created from the CLI, stored only as a hash, checked in
constant time, listed without secrets."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from alerts.store.db import create_store_engine
from api.cli import app, tokens_app
from api.roles import Role
from api.tokens import api_tokens, create_token, ensure_token_table, list_tokens, verify_token


def test_roles_are_ordered() -> None:
    assert [r.value for r in sorted(Role, key=lambda r: r.rank)] == ["viewer", "technician", "oncall", "admin"]
    assert Role.ADMIN.allows(Role.ONCALL) and Role.ONCALL.allows(Role.TECHNICIAN) and not Role.TECHNICIAN.allows(Role.ONCALL)


def test_a_token_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'vigil.db'}")
    ensure_token_table(engine)
    ensure_token_table(engine)  # idempotent
    token, secret = create_token(engine, "nurse station 3", Role.VIEWER)
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert secret not in str(tuple(row)) and row.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert verify_token(engine, secret) == token
    assert token.created_at.tzinfo is not None
    assert verify_token(engine, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert verify_token(engine, "not-a-token") is None
    engine.dispose()


def test_tokens_create_prints_the_token_once_and_list_never_shows_it(tmp_path: Path) -> None:
    env = {"VIGIL_DATABASE_URL": f"sqlite:///{tmp_path / 'vigil.db'}", "VIGIL_STATE_DIR": str(tmp_path)}
    runner = CliRunner()
    created = runner.invoke(tokens_app, ["create", "--name", "grafana", "--role", "viewer"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("vgl_")
    listed = runner.invoke(tokens_app, ["list"], env=env)
    assert listed.exit_code == 0 and "grafana" in listed.stdout and "viewer" in listed.stdout and secret not in listed.stdout
    again = runner.invoke(tokens_app, ["create", "--name", "grafana", "--role", "admin"], env=env)
    assert again.exit_code == 1 and "exists already" in again.output
    bad_role = runner.invoke(tokens_app, ["create", "--name", "x", "--role", "root"], env=env)
    assert bad_role.exit_code == 2 and "--role must be one of" in bad_role.output
    engine = create_store_engine(env["VIGIL_DATABASE_URL"])
    assert [t.name for t in list_tokens(engine)] == ["grafana"] and verify_token(engine, secret) is not None
    engine.dispose()


def test_serve_listens_on_localhost_port_8080_by_default() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "8080" in result.output
