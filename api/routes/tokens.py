"""API tokens (admin only; `/tokens/me` tells any caller its own name and role). The secret is shown once, at creation."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from api import schemas
from api.deps import Admin, StoreDep, Viewer
from api.tokens import TokenNameTaken, create_token, list_tokens, revoke_token

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _out(token: object) -> schemas.TokenOut:
    return schemas.TokenOut.model_validate(token, from_attributes=True)


@router.get("")
def list_api_tokens(store: StoreDep, _: Admin) -> list[schemas.TokenOut]:
    """Every token (names and roles; never secrets or hashes)."""
    return [_out(t) for t in list_tokens(store.engine)]


@router.get("/me")
def get_own_token(who: Viewer) -> schemas.TokenOut:
    """The caller's own token (name and role): what the console may offer."""
    return _out(who)


@router.post("", status_code=201)
def create_api_token(body: schemas.TokenIn, store: StoreDep, _: Admin) -> schemas.TokenCreated:
    """Create a token; the response is the only time its secret is shown."""
    try:
        token, secret = create_token(store.engine, body.name, body.role)
    except TokenNameTaken as exc:
        raise HTTPException(409, str(exc)) from None
    return schemas.TokenCreated(token=_out(token), secret=secret)


@router.post("/{name}/revoke", status_code=204)
def revoke_api_token(name: str, store: StoreDep, _: Admin) -> None:
    """Revoke a token at once."""
    if not revoke_token(store.engine, name):
        raise HTTPException(404, f"no live token {name!r}")
