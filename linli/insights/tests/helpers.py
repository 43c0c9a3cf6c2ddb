"""Cases taken through the real services at fixed times, for the KPI tests."""

from datetime import datetime
from zoneinfo import ZoneInfo

from linli.cases.case_services import (
    case_accept,
    case_dispatch,
    case_rate,
    case_reply,
    case_report,
    case_sign,
    case_start,
    case_verify,
)
from linli.core.testing import photo_upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
# A point inside each grid of the shared street (linli/conftest.py).
PLACES = {"g11": (118.605, 37.405), "g12": (118.615, 37.405), "g21": (118.625, 37.405)}


def report(matter, reporter, grid="g11", at=MON):
    lon, lat = PLACES[grid]
    return case_report(
        matter=matter,
        description="路边有一堆垃圾，气味很大",
        lon=lon,
        lat=lat,
        source="resident",
        reporter=reporter,
        at=at,
    )


def closed(matter, personas, grid="g11", *, satisfied=True, at=MON):
    """A case taken from report to the resident's rating, every step in time."""
    case = report(matter, personas["resident"], grid, at)
    case_accept(case=case, actor=personas["dispatcher"], at=at)
    case = case_dispatch(case=case, actor=personas["dispatcher"], at=at)
    case = case_sign(case=case, actor=personas["handler"], at=at)
    case = case_start(case=case, actor=personas["handler"], at=at)
    case = case_reply(case=case, actor=personas["handler"], note="已处理。", at=at)
    case = case_verify(
        case=case,
        actor=personas["dispatcher"],
        passed=True,
        note="干净了。",
        photos=[photo_upload(size=(64, 48))],
        at=at,
    )
    return case_rate(
        case=case,
        actor=personas["resident"],
        resolved=satisfied,
        satisfaction="satisfied" if satisfied else "unsatisfied",
        at=at,
    )
