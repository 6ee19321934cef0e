"""Bilingual text: the house message format and names in the page's language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import pgettext_lazy


def bilingual(zh: str, en: str) -> str:
    """The house format of every message: ``中文（English）``."""
    return f"{zh}（{en}）"


def paren(text: str) -> str:
    """``（东委发〔2012〕14号）`` in Chinese, `` (…)`` in English: no full-width brackets in an
    English text; empty for no text."""
    if not text:
        return ""
    return f" ({text})" if is_english() else f"（{text}）"


def punct(zh: str, en: str) -> str:
    """Full-width punctuation in Chinese, half-width in English."""
    return en if is_english() else zh


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
        # Org units' pinyin suffixes read in English ("Langxia Zhen" → "Langxia Town").
        return place_name_en(english) if zh == "name_zh" else english
    return chinese


def title_of(obj) -> str:
    return name_of(obj, "title_zh", "title_en")


# --- units of measure --------------------------------------------------------------------------
# A stored unit (an indicator's Chinese one such as 名/万人, or an element's code such as
# persons or m2) in the page's language: one table, each entry a Chinese msgid in the "unit"
# context, or "unit:<what>" where one Chinese word counts different things in English (家:
# organisations, enterprises, hotels); locale/en gives the English. Units not in the table (%, ‰) are shown as stored.
_UNIT_WORDS = {
    "人": pgettext_lazy("unit", "人"),
    "persons": pgettext_lazy("unit", "人"),
    "名": pgettext_lazy("unit", "名"),
    "名/万人": pgettext_lazy("unit", "名/万人"),
    "人/万人": pgettext_lazy("unit", "名/万人"),
    "名/年": pgettext_lazy("unit", "名/年"),
    "人/名社工": pgettext_lazy("unit", "人/名社工"),
    "个": pgettext_lazy("unit", "个"),
    "项": pgettext_lazy("unit", "项"),
    "items": pgettext_lazy("unit", "项"),
    "年": pgettext_lazy("unit", "年"),
    "years": pgettext_lazy("unit", "年"),
    "岁": pgettext_lazy("unit", "岁"),
    "家": pgettext_lazy("unit", "家"),
    "organisations": pgettext_lazy("unit", "家"),
    "enterprises": pgettext_lazy("unit:enterprises", "家"),
    "agencies": pgettext_lazy("unit:agencies", "家"),
    "institutions": pgettext_lazy("unit:agencies", "家"),
    "hotels": pgettext_lazy("unit:hotels", "家"),
    "张": pgettext_lazy("unit", "张"),
    "beds": pgettext_lazy("unit", "张"),
    "张/千名老人": pgettext_lazy("unit", "张/千名老人"),
    "平方米": pgettext_lazy("unit", "平方米"),
    "m2": pgettext_lazy("unit", "平方米"),
    "平方米/人": pgettext_lazy("unit", "平方米/人"),
    "个百分点/年": pgettext_lazy("unit", "个百分点/年"),
    "个百分点": pgettext_lazy("unit", "个百分点"),
    "yes/no": pgettext_lazy("unit", "是/否"),
    "yuan": pgettext_lazy("unit", "元"),
    "元": pgettext_lazy("unit", "元"),
    "件": pgettext_lazy("unit", "件"),
    "cases": pgettext_lazy("unit", "件"),
    "households": pgettext_lazy("unit", "户"),
    "户": pgettext_lazy("unit", "户"),
    "houses": pgettext_lazy("unit:houses", "套"),
    "bases": pgettext_lazy("unit:bases", "个"),
    "programmes": pgettext_lazy("unit:projects", "个"),
    "projects": pgettext_lazy("unit:projects", "个"),
    "posts": pgettext_lazy("unit:posts", "个"),
    "places": pgettext_lazy("unit:places", "个"),
    "stations": pgettext_lazy("unit:stations", "个"),
    "centres": pgettext_lazy("unit:centres", "个"),
    "committees": pgettext_lazy("unit:committees", "个"),
    "events": pgettext_lazy("unit", "次"),
    "次": pgettext_lazy("unit", "次"),
}


def unit_label(unit: str | None) -> str:
    """A stored unit in the page's language: ``名/万人`` reads "per 10,000" in English, ``m2``
    reads 平方米 in Chinese. Units without words (``%``) and unknown ones are shown as stored."""
    if not unit:
        return ""
    words = _UNIT_WORDS.get(unit.strip())
    return str(words) if words is not None else unit


# --- place names -------------------------------------------------------------------------------
# English names in the division tables are pinyin with the administrative suffix romanised
# ("Langxia Zhen"); shown, the suffix is English ("Langxia Town").
_PLACE_SUFFIXES = (
    (" Jiedao", " Subdistrict"),
    (" Xinqu", " New Area"),
    (" Zhen", " Town"),
    (" Qu", " District"),
    (" Shequ", " Community"),
    (" Cun", " Village"),
)
_DEMO_TAIL = " (demo)"


def place_name_en(name: str) -> str:
    """``"Langxia Zhen"`` → ``"Langxia Town"``; ``"Shiqi Jiedao (demo)"`` → ``"Shiqi Subdistrict
    (demo)"``. Other names are returned unchanged."""
    tail = ""
    if name.endswith(_DEMO_TAIL):
        name, tail = name[: -len(_DEMO_TAIL)], _DEMO_TAIL
    for pinyin, english in _PLACE_SUFFIXES:
        if name.endswith(pinyin) and len(name) > len(pinyin):
            return name[: -len(pinyin)] + english + tail
    return name + tail
