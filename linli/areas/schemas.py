from ninja import Schema


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
