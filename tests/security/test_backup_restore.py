"""Backups: scripts/backup.sh dumps the database and MEDIA_ROOT; scripts/restore.sh puts them
into a fresh database and directory, where the same values, history, uploads, audit trail and
files are found."""

from __future__ import annotations

import os
import subprocess
import uuid
from glob import glob
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audit.services import audit_record
from districts.models import UploadJob
from districts.services import upload_create
from tests.conftest import ROOT
from tests.districts.test_upload_job import GOOD, elements  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SNAPSHOT = {
    "values": """SELECT e.code, o.code, v.period, v.value::text, v.state, v.version
                 FROM districts_datavalue v JOIN targets_dataelement e ON e.id = v.element_id
                 JOIN districts_orgunit o ON o.id = v.org_unit_id ORDER BY 1, 2, 3""",
    "history": """SELECT id, element_code, org_unit_code, period, action, old_value::text,
                  new_value::text, actor_id, upload_id FROM districts_datavaluechange ORDER BY id""",
    "uploads": """SELECT id, original_name, file, state, created_count, created_by_id
                  FROM districts_uploadjob ORDER BY id""",
    "roles": "SELECT user_id, role, org_unit_id FROM districts_roleassignment ORDER BY 1, 2, 3",
    "users": "SELECT id, username, password FROM auth_user ORDER BY id",
    "audit": "SELECT id, action, actor_username, detail::text FROM audit_auditevent ORDER BY id",
}


def _snapshot(url: str) -> dict:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        result = {}
        for name, sql in SNAPSHOT.items():
            cursor.execute(sql)
            result[name] = cursor.fetchall()
    conn.close()
    return result


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _run(script: str, *args, **env) -> subprocess.CompletedProcess:
    pg_bin = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))[-1]
    full = {**os.environ, "PG_BIN": pg_bin, **env}
    result = subprocess.run(
        [str(ROOT / "scripts" / script), *args], env=full, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.usefixtures("elements")
def test_a_backup_restores_into_a_fresh_database_with_everything_in_it(cast, tmp_path, settings):
    if connection.vendor != "postgresql":
        pytest.fail("the backup test needs PostgreSQL (scripts/test.sh)")
    media = tmp_path / "media"
    settings.MEDIA_ROOT = str(media)
    job = upload_create(
        actor=cast["alice"],
        uploaded_file=SimpleUploadedFile("values.csv", GOOD.encode("utf-8-sig")),
    )
    job.refresh_from_db()
    assert job.state == UploadJob.SUCCEEDED and job.created_count == 3
    audit_record(actor=cast["admin"], action="backup.test", detail={"note": "before the backup"})

    db = connection.settings_dict
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
    source = f"{server}/{db['NAME']}"
    before = _snapshot(source)
    assert before["values"] and before["history"] and before["uploads"] and before["audit"]
    files = _files(media)
    assert any(name.startswith("uploads/") for name in files)

    out = _run("backup.sh", str(tmp_path / "backups"), DATABASE_URL=source, MEDIA_ROOT=str(media))
    dump, media_tar = out.stdout.split()

    restored_name = f"restored_{uuid.uuid4().hex[:8]}"
    restored = f"{server}/{restored_name}"
    admin = psycopg2.connect(f"{server}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{restored_name}"')
    try:
        restored_media = tmp_path / "restored-media"
        _run("restore.sh", dump, media_tar, DATABASE_URL=restored, MEDIA_ROOT=str(restored_media))
        assert _snapshot(restored) == before
        assert _files(restored_media) == files
        # The restored trail is still append-only.
        with psycopg2.connect(restored) as conn, conn.cursor() as cursor:
            with pytest.raises(psycopg2.Error, match="append-only"):
                cursor.execute("DELETE FROM audit_auditevent")
        conn.close()
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)')
        admin.close()


def test_a_backup_of_sqlite_is_refused_with_a_hint(tmp_path):
    result = subprocess.run(
        [str(ROOT / "scripts" / "backup.sh"), str(tmp_path)],
        env={**os.environ, "DATABASE_URL": "sqlite:///x.sqlite3"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "SQLite" in result.stderr
