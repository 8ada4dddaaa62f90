"""API tokens: created by `vigil tokens create`, stored hashed, checked on
every request.

A token reads `vgl_<key id>_<secret>`. The key id is public and finds the row;
the sha256 of the whole token is compared in constant time. Only the hash is
stored, so a copy of the database does not grant access.

The table lives in the alert store's database (one database to back up), but
on its own MetaData created with `create_all`: the alert store's schema is
owned by its Alembic migrations (alerts/migrations), which the API must not
change; a table the migrations do not know is left alone by them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from alerts.store import utc_now
from alerts.store.db import UTCDateTime
from api.roles import Role

TOKEN_PREFIX = "vgl"

# Deliberately not the alert store's MetaData: see the module docstring.
token_metadata = MetaData()

api_tokens = Table(
    "api_tokens",
    token_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(16), nullable=False, unique=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("token_sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
)


class TokenNameTaken(ValueError):
    """A token with this name exists (names are what the audit trail shows)."""


@dataclass(frozen=True)
class ApiToken:
    """A token as the API sees it: never the secret, never the hash."""

    id: int
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


def ensure_token_table(engine: Engine) -> None:
    """Create the token table if it is missing (idempotent)."""
    token_metadata.create_all(engine)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(row: object) -> ApiToken:
    m = row._mapping  # type: ignore[attr-defined]
    return ApiToken(id=m["id"], name=m["name"], role=Role(m["role"]), created_at=m["created_at"], revoked_at=m["revoked_at"])


def create_token(engine: Engine, name: str, role: Role) -> tuple[ApiToken, str]:
    """Create a token; returns it and the secret, which is shown only once."""
    name = name.strip()
    if not name:
        raise ValueError("a token needs a name (it is what the audit trail shows)")
    key_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    try:
        with engine.begin() as conn:
            conn.execute(insert(api_tokens).values(key_id=key_id, name=name, role=role.value, token_sha256=_digest(token),
                                                   created_at=utc_now()))
            row = conn.execute(select(api_tokens).where(api_tokens.c.key_id == key_id)).one()
    except IntegrityError:
        raise TokenNameTaken(f"a token named {name!r} exists already") from None
    return _record(row), token


def list_tokens(engine: Engine) -> list[ApiToken]:
    """Every token, oldest first (revoked ones too)."""
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(select(api_tokens).order_by(api_tokens.c.id))]


def revoke_token(engine: Engine, name: str) -> bool:
    """Revoke the token named `name`; False if there is no such live token."""
    with engine.begin() as conn:
        result = conn.execute(update(api_tokens).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
                              .values(revoked_at=utc_now()))
        return bool(result.rowcount)


def verify_token(engine: Engine, presented: str) -> ApiToken | None:
    """The live token matching `presented`, or None."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.key_id == parts[1])).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_sha256, _digest(presented)):
        return None
    return _record(row)


def token_is_live(engine: Engine, token_id: int) -> bool:
    """Whether the token (by id) exists and is not revoked: for long-lived
    requests such as the live stream, which recheck it now and then."""
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens.c.revoked_at).where(api_tokens.c.id == token_id)).first()
    return row is not None and row.revoked_at is None
