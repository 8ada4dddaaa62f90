"""`python -m alerts.migrations revision -m MSG [--autogenerate --url URL]`:
write a new revision script against this package's migrations."""

from __future__ import annotations

import argparse

from alembic import command

from alerts.store.db import alembic_config, create_store_engine


def main() -> None:
    """Create a revision script (autogenerate compares a database at --url with the ORM)."""
    parser = argparse.ArgumentParser(prog="python -m alerts.migrations")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true")
    rev.add_argument("--url", default="sqlite:///.vigil/vigil.db")
    args = parser.parse_args()
    cfg = alembic_config()
    if args.autogenerate:
        engine = create_store_engine(args.url)
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=args.message, autogenerate=True)
        engine.dispose()
    else:
        command.revision(cfg, message=args.message)


if __name__ == "__main__":
    main()
