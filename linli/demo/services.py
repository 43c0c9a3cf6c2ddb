"""The demo street: a realistic 胜利街道 near Dongying, built deterministically from a seed.

`demo_layout` is pure (geometry and names, no database); `demo_build` writes it. Later
features add their own data (residents and households come with the register) by
registering a step with `register_demo_step`; steps run in order inside the same
transaction, each with the `DemoContext`.
"""

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import shapely
import shapely.affinity
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from faker import Faker
from shapely.geometry import mapping
from tqdm import tqdm

from linli.accounts.models import Department, User
from linli.areas.geo import bump_grid_index_version, geometry_stats
from linli.areas.models import Area, Building
from linli.core.audit import audit_record
from linli.core.errors import DomainError

# Printed on every start and written to var/demo-accounts.json: a demo, not a secret.
DEMO_PASSWORD = "Linli@2026"  # noqa: S105
DISTRICT = ("370502", "东营区")
STREET = ("370502003", "胜利街道")
CENTRE = (118.60, 37.40)  # lon, lat
COMMUNITY_NAMES = [
    "胜园社区",
    "五一社区",
    "东兴社区",
    "华西社区",
    "新兴社区",
    "清波社区",
    "康晖社区",
    "兴洲苑社区",
    "古北社区",
    "梧桐社区",
    "胜利社区",
    "黄河社区",
    "振兴社区",
    "育才社区",
    "油城社区",
    "春晖社区",
    "海河社区",
    "胜采社区",
    "锦苑社区",
    "明珠社区",
    "龙居社区",
    "金湖社区",
    "滨河社区",
    "广北社区",
    "东城社区",
    "科苑社区",
]
ROADS = ["济南路", "西四路", "北一路", "淄博路", "府前街", "黄河路", "东三路", "运河路", "胶州路"]
DEPARTMENTS = [
    ("CG", "城管"),
    ("ZJ", "住建"),
    ("FG", "房管"),
    ("YJ", "应急"),
    ("SJ", "市场监管"),
    ("HW", "环卫"),
    ("GS", "供水"),
    ("GR", "供热"),
    ("GA", "公安"),
    ("MZ", "民政"),
    ("GD", "供电"),
    ("RQ", "燃气"),
]
SIZES = {
    # communities, grids, street area (km²), buildings per grid (min, max)
    "full": (26, 200, 500.0, (4, 12)),
    "small": (3, 12, 12.0, (2, 4)),
}
KM_PER_DEG_LAT = 111.0


@dataclass
class DemoPlace:
    level: str
    code: str
    name: str
    parent_code: str | None
    geometry: dict | None = None


@dataclass
class DemoBuilding:
    code: str
    name: str
    grid_code: str
    address: str
    lon: float
    lat: float
    floors: int


@dataclass
class DemoAccount:
    username: str
    role: str
    name: str
    area_code: str | None = None
    department: str | None = None
    is_superuser: bool = False


@dataclass
class DemoLayout:
    seed: int
    size: str
    places: list[DemoPlace]
    buildings: list[DemoBuilding]
    departments: list[tuple[str, str]]
    accounts: list[DemoAccount]

    def level(self, level: str) -> list[DemoPlace]:
        return [p for p in self.places if p.level == level]


@dataclass
class DemoContext:
    layout: DemoLayout
    rng: random.Random
    areas: dict[str, Area]
    users: dict[str, User]
    departments: dict[str, Department]
    summary: dict = field(default_factory=dict)


DemoStep = Callable[[DemoContext], None]
DEMO_STEPS: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> DemoStep:
    """Add a step that runs after the places and accounts exist (usable as a decorator)."""
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
    return step


# --- layout (pure) --------------------------------------------------------------------------


def _km_to_deg(lat: float) -> tuple[float, float]:
    """Degrees of longitude and latitude per kilometre at a latitude."""
    return 1 / (KM_PER_DEG_LAT * math.cos(math.radians(lat))), 1 / KM_PER_DEG_LAT


def _outline(rng: random.Random, area_km2: float) -> shapely.Polygon:
    """A convex, slightly irregular street boundary of about `area_km2` around CENTRE.
    Convex so that every clipped Voronoi cell stays one polygon."""
    dlon, dlat = _km_to_deg(CENTRE[1])
    radius = math.sqrt(area_km2 / math.pi)
    points = []
    for i in range(24):
        angle = 2 * math.pi * i / 24
        r = radius * rng.uniform(0.85, 1.2)
        points.append(
            (
                CENTRE[0] + r * math.cos(angle) * dlon * 1.15,
                CENTRE[1] + r * math.sin(angle) * dlat / 1.15,
            )
        )
    hull = shapely.MultiPoint(points).convex_hull
    # Scale to the requested area (measured on the ellipsoid).
    from linli.areas.geo import geodesic_area_m2

    factor = math.sqrt(area_km2 * 1e6 / geodesic_area_m2(hull))
    return shapely.affinity.scale(hull, factor, factor, origin=CENTRE)


def _seeds_in(rng: random.Random, polygon, n: int) -> list[tuple[float, float]]:
    west, south, east, north = polygon.bounds
    shapely.prepare(polygon)
    seeds = []
    while len(seeds) < n:
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        if shapely.contains_xy(polygon, x, y):
            seeds.append((x, y))
    return seeds


def _voronoi_cells(seeds, clip) -> list:
    """Voronoi cells of `seeds` clipped to the convex `clip`, in seed order; together they
    tile `clip` with no gap or overlap."""
    diagram = shapely.voronoi_polygons(
        shapely.MultiPoint(seeds), extend_to=clip.buffer(1.0), ordered=True
    )
    return [cell.intersection(clip) for cell in diagram.geoms]


def grid_sequence_order(centroids: list[tuple[float, float]]) -> list[int]:
    """Positions of `centroids` in numbering order: rows north→south (latitude bands of
    equal height, about √n of them), west→east within a row (CJ/T 213)."""
    n = len(centroids)
    rows = max(1, round(math.sqrt(n)))
    lats = [lat for _lon, lat in centroids]
    north, south = max(lats), min(lats)
    height = (north - south) / rows or 1.0

    def row(i: int) -> int:
        return min(rows - 1, int((north - centroids[i][1]) / height))

    return sorted(range(n), key=lambda i: (row(i), centroids[i][0]))


def _geojson(geom) -> dict:
    return json.loads(json.dumps(mapping(geom)))


def demo_layout(*, seed: int = 2026, size: str = "full") -> DemoLayout:
    """Everything the demo street holds, computed from the seed alone."""
    if size not in SIZES:
        raise DomainError("invalid_size", f"size must be one of {', '.join(SIZES)}")
    n_communities, n_grids, area_km2, per_grid = SIZES[size]
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)

    outline = _outline(rng, area_km2)
    places = [
        DemoPlace("district", DISTRICT[0], DISTRICT[1], None),
        DemoPlace("street", STREET[0], STREET[1], DISTRICT[0], _geojson(outline)),
    ]
    community_cells = _voronoi_cells(_seeds_in(rng, outline, n_communities), outline)
    # Community codes run west→east, north→south as well.
    order = grid_sequence_order([(c.centroid.x, c.centroid.y) for c in community_cells])
    community_cells = [community_cells[i] for i in order]
    total_area = sum(c.area for c in community_cells)
    buildings: list[DemoBuilding] = []
    accounts = [
        DemoAccount("admin", "admin", fake.name(), is_superuser=True),
        DemoAccount("leader", "leader", fake.name(), area_code=STREET[0]),
        DemoAccount("dispatcher1", "dispatcher", fake.name(), area_code=STREET[0]),
        DemoAccount("dispatcher2", "dispatcher", fake.name(), area_code=STREET[0]),
    ]
    grids_left = n_grids
    for c_index, cell in enumerate(community_cells, start=1):
        c_code = f"{STREET[0]}{c_index:03d}"
        c_name = COMMUNITY_NAMES[c_index - 1]
        places.append(DemoPlace("community", c_code, c_name, STREET[0], _geojson(cell)))
        accounts.append(DemoAccount(f"c{c_index:03d}", "dispatcher", fake.name(), area_code=c_code))
        remaining = n_communities - c_index
        share = round(n_grids * cell.area / total_area)
        k = max(2, min(share, grids_left - 2 * remaining)) if remaining else max(2, grids_left)
        grids_left -= k
        grid_cells = _voronoi_cells(_seeds_in(rng, cell, k), cell)
        order = grid_sequence_order([(g.centroid.x, g.centroid.y) for g in grid_cells])
        for seq, position in enumerate(order, start=1):
            grid = grid_cells[position]
            g_code = f"{c_code}{seq:03d}"
            places.append(DemoPlace("grid", g_code, f"{c_name}第{seq}网格", c_code, _geojson(grid)))
            accounts.append(
                DemoAccount(
                    f"w{c_index:03d}{seq:03d}", "grid_worker", fake.name(), area_code=g_code
                )
            )
            if seq <= 2:
                # Two lanes (micro-grids) in the first grids of each community: west and east.
                west, south, east, north = grid.bounds
                middle = grid.centroid.x
                for m, box in enumerate(
                    (
                        shapely.box(west, south, middle, north),
                        shapely.box(middle, south, east, north),
                    ),
                    start=1,
                ):
                    part = grid.intersection(box)
                    places.append(
                        DemoPlace(
                            "microgrid",
                            f"{g_code}-{m:02d}",
                            f"{c_name}第{seq}网格第{m}微网格",
                            g_code,
                            _geojson(part),
                        )
                    )
            road = rng.choice(ROADS)
            for b, (lon, lat) in enumerate(_seeds_in(rng, grid, rng.randint(*per_grid)), start=1):
                buildings.append(
                    DemoBuilding(
                        code=f"{g_code}-B{b:02d}",
                        name=f"{b}号楼",
                        grid_code=g_code,
                        address=f"东营区{road}{rng.randint(1, 400)}号{c_name}{b}号楼",
                        lon=round(lon, 6),
                        lat=round(lat, 6),
                        floors=rng.choice([2, 3, 5, 6, 6, 11, 18, 24, 33]),
                    )
                )
    for code, _name in DEPARTMENTS:
        accounts.append(DemoAccount(f"h{code.lower()}", "handler", fake.name(), department=code))
    accounts.append(DemoAccount("resident1", "resident", fake.name()))
    return DemoLayout(seed, size, places, buildings, list(DEPARTMENTS), accounts)


# --- build (database) -----------------------------------------------------------------------


@dataclass
class DemoSummary:
    counts: dict[str, int]
    accounts: list[dict]
    accounts_path: Path | None


def _write_places(ctx: DemoContext) -> None:
    areas: dict[str, Area] = {}
    for level in ("district", "street", "community", "grid", "microgrid"):
        rows = []
        for place in ctx.layout.level(level):
            parent = areas.get(place.parent_code) if place.parent_code else None
            area = Area(
                level=level,
                code=place.code,
                name=place.name,
                parent=parent,
                geometry=place.geometry,
            )
            # bulk_create skips save(), which computes the path.
            area.path = f"{parent.path if parent else '/'}{place.code}/"
            if place.geometry:
                area.area_m2, area.centroid_lon, area.centroid_lat = geometry_stats(place.geometry)
            rows.append(area)
        for area in Area.objects.bulk_create(rows):
            areas[area.code] = area
    ctx.areas.update(areas)
    Building.objects.bulk_create(
        Building(
            code=b.code,
            name=b.name,
            grid=areas[b.grid_code],
            address=b.address,
            lon=b.lon,
            lat=b.lat,
            floors=b.floors,
        )
        for b in ctx.layout.buildings
    )
    bump_grid_index_version()


def _write_departments(ctx: DemoContext) -> None:
    street = ctx.areas[STREET[0]]
    made = Department.objects.bulk_create(
        Department(code=code, name=name, area=street) for code, name in ctx.layout.departments
    )
    ctx.departments.update({d.code: d for d in made})


def _write_accounts(ctx: DemoContext) -> None:
    # One hash for every demo account: Argon2 costs ~50 ms a call, on purpose.
    hashed = make_password(DEMO_PASSWORD)
    users = [
        User(
            username=a.username,
            role=a.role,
            name=a.name,
            password=hashed,
            area=ctx.areas.get(a.area_code) if a.area_code else None,
            department=ctx.departments.get(a.department) if a.department else None,
            is_staff=a.role == "admin",
            is_superuser=a.is_superuser,
        )
        for a in ctx.layout.accounts
    ]
    ctx.users.update({u.username: u for u in User.objects.bulk_create(users)})


BASE_STEPS: list[tuple[str, DemoStep]] = [
    ("places", _write_places),
    ("departments", _write_departments),
    ("accounts", _write_accounts),
]


def demo_accounts(layout: DemoLayout) -> list[dict]:
    return [
        {
            "username": a.username,
            "password": DEMO_PASSWORD,
            "role": a.role,
            "name": a.name,
            "area_code": a.area_code,
            "area_level": next((p.level for p in layout.places if p.code == a.area_code), None)
            if a.area_code
            else None,
            "department": a.department,
        }
        for a in layout.accounts
    ]


def demo_accounts_write(accounts: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(accounts, ensure_ascii=False, indent=1), encoding="utf-8")


def demo_build(
    *,
    seed: int = 2026,
    size: str = "full",
    progress: bool = True,
    accounts_path: Path | None = None,
) -> DemoSummary:
    """Write the demo street into an empty database, in one transaction."""
    if Area.objects.filter(code=STREET[0]).exists():
        raise DomainError("demo_exists", "the demo street is already in this database")
    steps = [*BASE_STEPS, *((step.__name__, step) for step in DEMO_STEPS)]
    bar = tqdm(total=len(steps) + 1, desc="demo street", disable=not progress, unit="step")
    bar.set_postfix_str("layout")
    layout = demo_layout(seed=seed, size=size)
    bar.update()
    ctx = DemoContext(
        layout=layout, rng=random.Random(seed + 1), areas={}, users={}, departments={}
    )
    with transaction.atomic():
        for name, step in steps:
            bar.set_postfix_str(name)
            step(ctx)
            bar.update()
        audit_record(action="demo.build", detail={"seed": seed, "size": size})
    bar.close()
    accounts = demo_accounts(layout)
    path = (
        accounts_path
        if accounts_path is not None
        else Path(settings.VAR_DIR) / "demo-accounts.json"
    )
    demo_accounts_write(accounts, path)
    counts = {level: len(layout.level(level)) for level, _label in Area.Level.choices}
    counts |= {
        "buildings": len(layout.buildings),
        "departments": len(layout.departments),
        "accounts": len(layout.accounts),
        **ctx.summary,
    }
    return DemoSummary(counts=counts, accounts=accounts, accounts_path=path)
