"""Bilingual text: the house message format and names in the page's language."""

from __future__ import annotations

from django.utils import translation


def bilingual(zh: str, en: str) -> str:
    """The house format of every message: ``中文（English）``."""
    return f"{zh}（{en}）"


def is_english() -> bool:
    return (translation.get_language() or "").startswith("en")


def name_of(obj, zh: str = "name_zh", en: str = "name_en") -> str:
    """The English name when the page is in English and one exists, else the Chinese one.
    ``obj`` may be a model, any object with those attributes, a dict, or None (empty text)."""
    if obj is None:
        return ""
    if isinstance(obj, dict):
        english, chinese = obj.get(en, ""), obj.get(zh, "")
    else:
        english, chinese = getattr(obj, en, ""), getattr(obj, zh, "")
    if is_english() and english:
        return english
    return chinese


def title_of(obj) -> str:
    return name_of(obj, "title_zh", "title_en")
