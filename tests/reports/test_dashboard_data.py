"""Test data for the dashboard, report-pack and browser tests (no tests here).

A small catalog on the conftest tree (Dongguan and Zhongshan plans with like indicators) and
progress rows written directly: the pages only read ``ProgressRow``, which the background job
computes elsewhere. ``grow`` adds towns and indicators to show that query counts do not depend
on them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

ELEMENTS = [
    ("volunteers.registered", "注册志愿者人数", "Registered volunteers", "integer", "sum"),
    ("population.resident", "常住人口", "Resident population", "integer", "sum"),
    ("social_orgs.count", "社会组织数", "Social organisations", "integer", "sum"),
    ("services.online_items", "网上办理事项数", "Items handled online", "integer", "sum"),
    ("services.total_items", "服务事项数", "Service items", "integer", "sum"),
    ("centres.built", "建成社区服务中心", "Community centre built", "boolean", "none"),
]
PERIODS = ["2011", "2012", "2013", "2014"]
AS_OF = "2014"


def make_catalog() -> dict:
    """Two plans: Dongguan (two goals, five indicators of every kind) and Zhongshan (two
    indicators computed from the same elements as two of Dongguan's)."""
    from districts.models import OrgUnit
    from targets.models import DataElement, Goal, Indicator, Plan

    el = {}
    for code, zh, en, value_type, aggregation in ELEMENTS:
        el[code] = DataElement.objects.create(
            code=code,
            name_zh=zh,
            name_en=en,
            unit="",
            value_type=value_type,
            period_type="year",
            aggregation=aggregation,
            temporal="last",
        )
    dg_city = OrgUnit.objects.get(code="441900")
    zs_city = OrgUnit.objects.get(code="442000")
    dg = Plan.objects.create(
        code="dongguan-2012-14",
        city=dg_city,
        title_zh="关于加强社会建设的意见",
        title_en="Opinions on Strengthening Social Construction",
        document_number="东委发〔2012〕14号",
        issuer_zh="中共东莞市委 东莞市人民政府",
        issuer_en="CPC Dongguan Municipal Committee; Dongguan Municipal Government",
        issued_on=date(2012, 5, 28),
        source="001_6b5a303b382abbae.txt",
    )
    zs = Plan.objects.create(
        code="zhongshan-2014",
        city=zs_city,
        title_zh="中山市社会建设规划",
        title_en="Zhongshan Social Construction Plan",
        document_number="中委〔2014〕3号",
        issued_on=date(2014, 3, 1),
    )
    g19 = Goal.objects.create(plan=dg, code="19", title_zh="完善志愿服务体系", title_en="Volunteering", position=1)  # fmt: skip
    g20 = Goal.objects.create(plan=dg, code="20", title_zh="提升公共服务", title_en="Public services", position=2)  # fmt: skip
    zg = Goal.objects.create(plan=zs, code="3", title_zh="社会服务", title_en="Social services", position=1)  # fmt: skip
    deadline = date(2015, 12, 31)

    def ratio(code, plan, goal, num, den, zh, en, target, quote, pos, **kw):
        return Indicator.objects.create(
            code=code, plan=plan, goal=goal, position=pos, name_zh=zh, name_en=en, kind="ratio",
            numerator=el[num], denominator=el[den], factor=Decimal(100), unit="%",
            comparator=">=", target=Decimal(target), deadline=deadline, quote=quote, **kw,
        )  # fmt: skip

    ind = {}
    ind["dg.volunteers.share"] = ratio(
        "dg.volunteers.share", dg, g19, "volunteers.registered", "population.resident",
        "注册志愿者占常住人口比例", "Registered volunteers as a share of residents", 12,
        "力争到2015年全市注册志愿者占常住人口的12%以上", 1,
        baseline_value=Decimal("6.5"), baseline_period="2011",
    )  # fmt: skip
    ind["dg.volunteers.total"] = Indicator.objects.create(
        code="dg.volunteers.total", plan=dg, goal=g19, position=2, name_zh="注册志愿者总数",
        name_en="Registered volunteers", kind="value", element=el["volunteers.registered"],
        unit="人", comparator=">=", target=Decimal(1_000_000), deadline=deadline,
        quote="注册志愿者达到100万人",
    )  # fmt: skip
    ind["dg.online.share"] = ratio(
        "dg.online.share", dg, g20, "services.online_items", "services.total_items",
        "网上办理事项比例", "Share of items handled online", 90, "90%以上的服务事项实现网上办理", 1,
    )  # fmt: skip
    ind["dg.social_orgs.coverage"] = Indicator.objects.create(
        code="dg.social_orgs.coverage", plan=dg, goal=g20, position=2,
        name_zh="拥有社会组织的社区比例", name_en="Communities with a social organisation",
        kind="coverage", level="community", condition_element=el["social_orgs.count"],
        condition_comparator=">=", condition_value=Decimal(1), unit="%", comparator=">=",
        target=Decimal(100), deadline=deadline, quote="所有城乡社区都拥有1个以上社会组织",
    )  # fmt: skip
    ind["dg.centres"] = Indicator.objects.create(
        code="dg.centres", plan=dg, goal=g20, position=3, name_zh="建成社区服务中心",
        name_en="Community service centres built", kind="milestone", element=el["centres.built"],
        comparator="=", target=Decimal(1), deadline=date(2012, 12, 31),
        quote="2012年底前所有镇街建成社区服务中心",
    )  # fmt: skip
    ind["zs.volunteers.share"] = ratio(
        "zs.volunteers.share", zs, zg, "volunteers.registered", "population.resident",
        "志愿者占常住人口比例", "Volunteers per resident", 10, "志愿者占常住人口10%", 1,
    )  # fmt: skip
    ind["zs.online.share"] = ratio(
        "zs.online.share", zs, zg, "services.online_items", "services.total_items",
        "网上办事比例", "Online services share", 80, "网上办事比例达到80%", 2,
    )  # fmt: skip
    return {"plans": {"dg": dg, "zs": zs}, "goals": {"19": g19, "20": g20}, "el": el, "ind": ind}


def put_row(indicator, unit, period, value, status, **extra):
    from core.periods import Period
    from reports.models import ProgressRow
    from reports.progress import percent_of_target

    target = extra.pop("target", None if status == "no_target" else indicator.target)
    v = None if value is None else Decimal(str(value))
    pct = (
        percent_of_target(float(v), float(target), indicator.comparator)
        if v is not None and target is not None
        else None
    )
    return ProgressRow.objects.create(
        indicator=indicator,
        org_unit=unit,
        period=period,
        period_end=Period.parse(period).end,
        value=v,
        target=target,
        comparator=indicator.comparator,
        deadline=indicator.deadline,
        percent_of_target=None if pct is None else Decimal(str(round(pct, 4))),
        status=status,
        completeness=Decimal(str(extra.pop("completeness", 1))),
        **{k: (Decimal(str(x)) if isinstance(x, int | float) else x) for k, x in extra.items()},
    )


# (indicator, unit) → value and status per period 2011…2014
SERIES = {
    ("dg.volunteers.share", "441900"): [(6.5, "not_assessable"), (7.2, "on_track"), (7.9, "at_risk"), (8.6, "off_track")],
    ("dg.volunteers.share", "441900003"): [(6.0, "not_assessable"), (6.3, "off_track"), (6.8, "off_track"), (7.0, "off_track")],
    ("dg.volunteers.share", "441900101"): [(7.0, "not_assessable"), (8.5, "on_track"), (10.0, "on_track"), (11.5, "on_track")],
    ("dg.volunteers.total", "441900"): [(500000, "not_assessable"), (650000, "on_track"), (800000, "on_track"), (1200000, "achieved")],
    ("dg.volunteers.total", "441900003"): [(300000, "no_target"), (390000, "no_target"), (480000, "no_target"), (720000, "no_target")],
    ("dg.volunteers.total", "441900101"): [(200000, "no_target"), (260000, "no_target"), (320000, "no_target"), (480000, "no_target")],
    ("dg.online.share", "441900"): [(40, "not_assessable"), (60, "on_track"), (80, "on_track"), (92, "achieved")],
    ("dg.online.share", "441900003"): [(45, "not_assessable"), (70, "on_track"), (85, "on_track"), (95, "achieved")],
    ("dg.online.share", "441900101"): [(30, "not_assessable"), (40, "off_track"), (55, "at_risk"), (62, "at_risk")],
    ("dg.social_orgs.coverage", "441900"): [(20, "not_assessable"), (35, "on_track"), (45, "at_risk"), (60, "at_risk")],
    ("dg.social_orgs.coverage", "441900003"): [(50, "not_assessable"), (60, "on_track"), (100, "achieved"), (100, "achieved")],
    ("dg.social_orgs.coverage", "441900101"): [(0, "not_assessable"), (10, "off_track"), (None, "no_data"), (None, "no_data")],
    ("dg.centres", "441900"): [(0, "not_assessable"), (0, "missed"), (0, "missed"), (0, "missed")],
    ("dg.centres", "441900003"): [(0, "not_assessable"), (1, "achieved"), (1, "achieved"), (1, "achieved")],
    ("dg.centres", "441900101"): [(0, "not_assessable"), (0, "missed"), (0, "missed"), (0, "missed")],
    ("zs.volunteers.share", "442000"): [(5.0, "not_assessable"), (6.5, "on_track"), (7.8, "on_track"), (9.1, "on_track")],
    ("zs.volunteers.share", "442000001"): [(5.0, "not_assessable"), (6.5, "on_track"), (7.8, "on_track"), (9.1, "on_track")],
    ("zs.online.share", "442000"): [(30, "not_assessable"), (35, "off_track"), (38, "off_track"), (41, "off_track")],
    ("zs.online.share", "442000001"): [(30, "not_assessable"), (35, "off_track"), (38, "off_track"), (41, "off_track")],
}  # fmt: skip
SHARES = {"441900003": 60, "441900101": 40}


def make_progress(catalog: dict, tree: dict) -> None:
    """Rows for 2011–2014 at each city and its first-level units (plus one community)."""
    for (code, unit_code), series in SERIES.items():
        ind = catalog["ind"][code]
        unit = tree[unit_code]
        for period, (value, status) in zip(PERIODS, series, strict=True):
            extra = {}
            if status == "no_target":
                extra["share_of_total"] = SHARES[unit_code]
            if unit.level == "city" and status in ("on_track", "at_risk", "off_track"):
                extra["expected"] = float(value) * 1.1 if value else None
            if unit.level == "city":
                extra["forecast"] = float(value or 0) * 1.3
                extra["completeness"] = 0.5 if code == "dg.social_orgs.coverage" else 1
            put_row(ind, unit, period, value, status, **extra)
    put_row(catalog["ind"]["dg.volunteers.share"], tree["441900003001"], AS_OF, 7.5, "off_track")


def grow(catalog: dict, tree: dict, *, towns: int, indicators: int) -> None:
    """More towns under Dongguan and more indicators in its plan, each with rows at the city
    and at every town (and some towns dragging)."""
    from districts.models import OrgUnit
    from districts.services import orgunit_save
    from targets.models import Indicator

    city = tree["441900"]
    new_units = [
        orgunit_save(
            unit=OrgUnit(
                code=f"44190099{n:03d}",
                name_zh=f"新镇{n}",
                name_en=f"New town {n}",
                level="town",
                parent=city,
            )
        )
        for n in range(towns)
    ]
    template = catalog["ind"]["dg.volunteers.share"]
    statuses = ["on_track", "off_track", "at_risk", "achieved", "no_data"]
    for n in range(indicators):
        ind = Indicator.objects.create(
            code=f"dg.extra.{n}",
            plan=template.plan,
            goal=catalog["goals"]["20"],
            position=10 + n,
            name_zh=f"附加指标{n}",
            name_en=f"Extra indicator {n}",
            kind="ratio",
            numerator=template.numerator,
            denominator=template.denominator,
            factor=Decimal(100),
            unit="%",
            comparator=">=",
            target=Decimal(50),
            deadline=template.deadline,
            quote=f"附加指标{n}",
        )
        city_status = statuses[n % len(statuses)]
        for period in PERIODS:
            put_row(ind, city, period, None if city_status == "no_data" else 20 + n, city_status)
        for i, unit in enumerate([*new_units, tree["441900003"], tree["441900101"]]):
            status = statuses[(n + i) % len(statuses)]
            put_row(ind, unit, AS_OF, None if status == "no_data" else 10 + i, status)
