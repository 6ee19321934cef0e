"""Plan YAML files built to hurt (issue 14): too large, or a "billion laughs" of YAML aliases,
refused by load_plans before anything is written."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from targets.models import Plan

LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
)


def load(path) -> str:
    out = io.StringIO()
    call_command("load_plans", str(path), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_billion_laughs_plan_file_is_refused_at_its_first_alias(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2, column \d+: .*YAML aliases such as \*a"):
        load(path)
    assert not Plan.objects.exists()


@pytest.mark.django_db
def test_a_plan_file_above_the_size_limit_is_refused(tmp_path, settings):
    settings.PLAN_MAX_BYTES = 100
    path = tmp_path / "big.yaml"
    path.write_text("plan:\n  code: x\n" + "# padding\n" * 50, encoding="utf-8")
    with pytest.raises(CommandError, match=r"the file is too large: the limit is 100 bytes"):
        load(path)
    assert not Plan.objects.exists()
