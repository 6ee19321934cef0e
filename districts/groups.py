"""Org-unit groups (DHIS2's organisation unit groups and group sets), pure: which groups the
portal knows, and the default membership of a unit by its level and official name.

Two group sets, each exclusive within its tier:

- ``urban_rural`` — ``urban_community`` (城市社区: a residents' committee, 社区居委会) and
  ``rural_village`` (农村社区: an administrative village and its village committee, 行政村/村委会).
  Dongguan's 2012 documents set targets for one or the other (六个一 and 10% volunteers in urban
  communities; a public service station in every administrative village, 7% volunteers in rural
  communities).
- ``township_kind`` — ``town`` (镇), ``subdistrict`` (街道) and ``zone`` (园区: development zones
  and new areas such as 松山湖, 东莞滨海湾新区 and 大鹏新区, which sit at the tier of towns or
  districts without being either).

A plan may name a group (``group:`` on a coverage or ratio indicator) that is standard or
already exists (created in the admin, members assigned there).
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_MARKS = ("（演示）",)


@dataclass(frozen=True)
class GroupDef:
    code: str
    name_zh: str
    name_en: str
    group_set: str
    description: str = ""


URBAN_COMMUNITY = "urban_community"
RURAL_VILLAGE = "rural_village"
TOWN = "town"
SUBDISTRICT = "subdistrict"
ZONE = "zone"

STANDARD_GROUPS: tuple[GroupDef, ...] = (
    GroupDef(URBAN_COMMUNITY, "城市社区", "Urban communities", "urban_rural",
             "社区居民委员会所辖的城市社区（residents' committees）"),
    GroupDef(RURAL_VILLAGE, "农村社区（行政村）", "Rural communities (administrative villages)",
             "urban_rural", "村民委员会所辖的行政村（village committees）"),
    GroupDef(TOWN, "镇", "Towns", "township_kind"),
    GroupDef(SUBDISTRICT, "街道", "Subdistricts", "township_kind"),
    GroupDef(ZONE, "园区", "Zones and new areas", "township_kind",
             "开发区、新区等功能区，与镇街或区同级（development zones and new areas）"),
)  # fmt: skip
STANDARD_GROUP_CODES = frozenset(g.code for g in STANDARD_GROUPS)


def default_groups(level: str, name_zh: str) -> frozenset[str]:
    """The standard groups a unit belongs to by its level and its name: a community
    (社区) is urban, a village (村) rural; a town-tier unit named …镇 is a town, …街道 a
    subdistrict, anything else at that tier (松山湖, 东莞港) a zone; at the district tier a
    新区 or 合作区 is a zone."""
    name = name_zh
    for mark in DEMO_MARKS:
        name = name.removesuffix(mark)
    name = name.rstrip("0123456789")
    if level == "community":
        return frozenset({URBAN_COMMUNITY})
    if level == "village":
        return frozenset({RURAL_VILLAGE})
    if level == "subdistrict" or (level == "town" and name.endswith(("街道", "街道办事处"))):
        return frozenset({SUBDISTRICT})
    if level == "town":
        return frozenset({TOWN}) if name.endswith("镇") else frozenset({ZONE})
    if level == "district" and name.endswith(("新区", "合作区")):
        return frozenset({ZONE})
    return frozenset()
