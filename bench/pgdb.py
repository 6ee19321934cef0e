"""The benches' database: each creates the PostgreSQL database its DATABASE_URL names when it
does not exist yet (then migrates it itself)."""

from __future__ import annotations

import os


def ensure_database() -> None:
    """Create the PostgreSQL database named by DATABASE_URL when it does not exist yet."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    conn_args = dict(
        user=cfg["USER"], password=cfg["PASSWORD"] or None, host=cfg["HOST"],
        port=cfg["PORT"] or None,
    )  # fmt: skip
    try:
        psycopg2.connect(dbname=cfg["NAME"], **conn_args).close()
        return
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
    conn = psycopg2.connect(dbname="postgres", **conn_args)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()
