from typing import Literal

from ninja import Schema
from pydantic import Field


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    area_m2: float | None
    centroid_lon: float | None
    centroid_lat: float | None


class AreaDetailOut(AreaOut):
    geometry: dict | None


class LocateOut(Schema):
    code: str
    name: str
    community_code: str
    community: str
    lon: float
    lat: float


class LocateQuery(Schema):
    """A point as a map SDK sends it: WGS-84 (GPS), GCJ-02 (AMap, Tencent) or BD-09 (Baidu)."""

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
