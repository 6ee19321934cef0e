"""Headers on every page: a Content Security Policy without inline script or style, a
Permissions-Policy; and production's HTTPS settings from the environment."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = ["base.html", "districts", "supervision", "registration", "drf_spectacular"]


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/data/", "/supervision/", "/admin/"])
def test_every_page_has_a_strict_policy(client, cast, url):
    client.force_login(cast["admin"])
    response = client.get(url, follow=True)
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_api_docs_page_has_no_inline_script_or_style(client, cast):
    client.force_login(cast["zoe"])
    page = client.get("/api/docs/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert "<style" not in page and "style=" not in page


def test_the_templates_carry_no_inline_script_style_or_handlers():
    offenders = []
    for name in TEMPLATE_DIRS:
        base = ROOT / "templates" / name
        for path in [base] if base.is_file() else base.rglob("*.html"):
            text = path.read_text()
            if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(
                r"<style\b|\sstyle=|\son[a-z]+=", text
            ):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def _manage(*args, **env):
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE is a deploy-check error of its own.
    dropped = ("SECRET_KEY", "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    full = {k: v for k, v in os.environ.items() if k not in dropped}
    full.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True
    )


def test_production_with_https_passes_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 30 + "abcdefghijklmnopqrstuvwxyz0123456789",
        ALLOWED_HOSTS="portal.example",
        SECURE_HSTS_SECONDS="31536000",
        SECURE_SSL_REDIRECT="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_https_is_reported_by_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 30 + "abcdefghijklmnopqrstuvwxyz0123456789",
        ALLOWED_HOSTS="portal.example",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout


def test_production_refuses_a_short_secret_key():
    result = _manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="short-but-not-empty-0123456789",
        ALLOWED_HOSTS="portal.example",
    )
    assert result.returncode != 0
    assert "at least 50" in result.stderr
