"""The demo street: a realistic 胜利街道 near Dongying, built deterministically from a seed.

`demo_layout` is pure (geometry, names and accounts, no database); `demo_build` writes it
in one transaction. Later features add their own data by registering a step:

    @register_demo_step
    def demo_residents(ctx: DemoContext) -> None:
        ...  # ctx.areas, ctx.buildings, ctx.users, ctx.departments, ctx.rng, ctx.fake

Steps run after the places, departments and accounts exist, in registration order, inside
the build's transaction. A step may add logins to `ctx.accounts` (they go into
var/demo-accounts.json) and counts to `ctx.summary` (printed by `build_demo`). Register
from the owning app's `AppConfig.ready()`, so that the step is there whenever the demo is
built. The residents and households step belongs to the register (people app).
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
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from faker import Faker
from tqdm import tqdm

from linli.accounts.models import Department, User
from linli.areas.geo import (
    bump_grid_index_version,
    geodesic_area_m2,
    geometry_stats,
    to_geojson,
)
from linli.areas.models import Area, Building
from linli.core.audit import audit_record
from linli.core.db import planner_statistics_refresh
from linli.core.errors import DomainError

# Printed on every start and written to var/demo-accounts.json: a demo, not a secret.
DEMO_PASSWORD = "Linli@2026"  # noqa: S105
DISTRICT = ("370502", "东营区")
STREET = ("370502003", "胜利街道")
CENTRE = (118.60, 37.40)  # lon, lat
# The first ten are the communities the seeds name (集创式 pilot batches); the rest are
# plausible Dongying names. Assigned in code order, i.e. west→east, north→south.
COMMUNITY_NAMES = [
    "锦华社区",
    "胜宏社区",
    "新辉社区",
    "锦苑社区",
    "瑞盛社区",
    "新兴社区",
    "胜景社区",
    "康洋社区",
    "锦泰社区",
    "新胜社区",
    "胜园社区",
    "五一社区",
    "胜利社区",
    "黄河社区",
    "振兴社区",
    "育才社区",
    "油城社区",
    "春晖社区",
    "海河社区",
    "胜采社区",
    "明珠社区",
    "金湖社区",
    "滨河社区",
    "广北社区",
    "东城社区",
    "科苑社区",
]
ROADS = [
    "济南路",
    "西四路",
    "北一路",
    "淄博路",
    "府前街",
    "黄河路",
    "东三路",
    "运河路",
    "胶州路",
    "南一路",
    "西二路",
    "庐山路",
]
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
# Land use (GB 50137 classes) by distance from the centre: the town in the middle, oil
# field, farmland and wetland towards the edge of a 530 km² street.
LAND_USE_BY_RING = [
    (0.35, ["居住用地", "居住用地", "居住用地", "商业服务业设施用地", "公共管理与公共服务用地"]),
    (0.7, ["居住用地", "工业用地", "物流仓储用地", "绿地与广场用地", "公共管理与公共服务用地"]),
    (9.9, ["油田作业区", "农林用地", "农林用地", "工业用地", "水域湿地"]),
]
URBAN_LAND_USE = {"居住用地", "商业服务业设施用地", "公共管理与公共服务用地"}


@dataclass(frozen=True)
class DemoSize:
    communities: int
    grids: int
    area_km2: float
    buildings_per_grid: tuple[int, int]


SIZES = {
    "full": DemoSize(communities=26, grids=200, area_km2=500.0, buildings_per_grid=(4, 12)),
    "small": DemoSize(communities=3, grids=12, area_km2=12.0, buildings_per_grid=(2, 4)),
}
KM_PER_DEG_LAT = 111.0
# Buildings stand at least this far (degrees, ~20 m) inside their grid's border.
BUILDING_INSET = 0.0002
MICROGRIDS_PER_COMMUNITY = 2


@dataclass
class DemoPlace:
    level: str
    code: str
    name: str
    parent_code: str | None
    geometry: dict | None = None
    land_use: str = ""


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
    """What a build step sees: the layout, the rows written so far (by code or username),
    and seeded generators of its own so that a step does not shift another's numbers."""

    layout: DemoLayout
    rng: random.Random
    fake: Faker
    password_hash: str
    areas: dict[str, Area] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    accounts: list[dict] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    # Whether the build shows progress bars, so that a long step can show its own.
    progress: bool = False


DemoStep = Callable[[DemoContext], None]
DEMO_STEPS: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> DemoStep:
    """Add a step that runs after the places and accounts exist (usable as a decorator)."""
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
    return step


# --- layout (pure) --------------------------------------------------------------------------


def _deg_per_km(lat: float) -> tuple[float, float]:
    """Degrees of longitude and of latitude per kilometre at a latitude."""
    return 1 / (KM_PER_DEG_LAT * math.cos(math.radians(lat))), 1 / KM_PER_DEG_LAT


def _outline(rng: random.Random, area_km2: float) -> shapely.Polygon:
    """A slightly irregular street boundary of `area_km2` around CENTRE, wider than tall.
    Convex, so that every Voronoi cell clipped to it (and every cell clipped to such a
    cell) stays one convex polygon: no multipolygons, no slivers."""
    dlon, dlat = _deg_per_km(CENTRE[1])
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
    factor = math.sqrt(area_km2 * 1e6 / geodesic_area_m2(hull))
    return shapely.affinity.scale(hull, factor, factor, origin=CENTRE)


def _seeds_in(rng: random.Random, polygon, n: int, *, centred: float = 0.0) -> list:
    """`n` random points inside `polygon`; a share `centred` of them drawn towards its
    middle (a town is denser at its centre)."""
    west, south, east, north = polygon.bounds
    middle = polygon.centroid
    shapely.prepare(polygon)
    seeds: list[tuple[float, float]] = []
    while len(seeds) < n:
        if rng.random() < centred:
            x = rng.gauss(middle.x, (east - west) / 7)
            y = rng.gauss(middle.y, (north - south) / 7)
        else:
            x, y = rng.uniform(west, east), rng.uniform(south, north)
        if shapely.contains_xy(polygon, x, y):
            seeds.append((x, y))
    return seeds


def _voronoi_cells(seeds, clip, *, relax: int = 0) -> list:
    """Voronoi cells of `seeds` clipped to the convex `clip`, in seed order; together they
    tile `clip` with no gap or overlap. Each `relax` round (Lloyd's algorithm) moves the
    seeds to their cells' centroids, evening out the cells' sizes: grids are divided for
    a balanced load (标准 §1.2)."""
    extent = clip.buffer(1.0)
    for round_ in range(relax + 1):
        diagram = shapely.voronoi_polygons(
            shapely.MultiPoint(seeds), extend_to=extent, ordered=True
        )
        cells = [cell.intersection(clip) for cell in diagram.geoms]
        if round_ < relax:
            seeds = [(c.centroid.x, c.centroid.y) for c in cells]
    return cells


def grid_sequence_order(centroids: list[tuple[float, float]]) -> list[int]:
    """Positions of `centroids` in numbering order: rows north→south (latitude bands of
    equal height, about √n of them), west→east within a row (CJ/T 213)."""
    n = len(centroids)
    if not n:
        return []
    rows = max(1, round(math.sqrt(n)))
    lats = [lat for _lon, lat in centroids]
    north, south = max(lats), min(lats)
    height = (north - south) / rows or 1.0

    def row(i: int) -> int:
        return min(rows - 1, int((north - centroids[i][1]) / height))

    return sorted(range(n), key=lambda i: (row(i), centroids[i][0]))


def _apportion(weights: list[float], total: int, minimum: int) -> list[int]:
    """Split `total` in proportion to `weights`, at least `minimum` each (largest
    remainders), so that the counts add up exactly."""
    spare = total - minimum * len(weights)
    shares = [spare * w / sum(weights) for w in weights]
    counts = [math.floor(s) for s in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: spare - sum(counts)]:
        counts[i] += 1
    return [c + minimum for c in counts]


def _ring(polygon, outline) -> float:
    """How far out a polygon lies: 0 at the street's centre, about 1 at its border."""
    centre = outline.centroid
    radius = math.sqrt(outline.area / math.pi)
    return polygon.centroid.distance(centre) / radius


def _land_use(rng: random.Random, ring: float) -> str:
    return rng.choice(next(uses for limit, uses in LAND_USE_BY_RING if ring < limit))


def _microgrids(grid, g_code: str, g_name: str) -> list[DemoPlace]:
    """Two micro-grids (lanes) splitting a grid at its centroid: 1 west, 2 east. The halves
    of a convex polygon are convex, so they tile the grid exactly."""
    west, south, east, north = grid.bounds
    middle = grid.centroid.x
    halves = (shapely.box(west, south, middle, north), shapely.box(middle, south, east, north))
    return [
        DemoPlace(
            "microgrid",
            f"{g_code}-{m:02d}",
            f"{g_name}第{m}微网格",
            g_code,
            to_geojson(grid.intersection(box)),
        )
        for m, box in enumerate(halves, start=1)
    ]


def _buildings(
    rng: random.Random, grid, g_code: str, c_name: str, land_use: str, per_grid: tuple[int, int]
) -> list[DemoBuilding]:
    inner = grid.buffer(-BUILDING_INSET)
    if inner.is_empty or inner.area < grid.area / 10:
        inner = grid
    urban = land_use in URBAN_LAND_USE
    floors = [5, 6, 6, 6, 11, 18, 24, 33] if urban else [1, 1, 2, 2, 3, 4]
    road = rng.choice(ROADS)
    number = rng.randint(1, 300)
    made = []
    for b, (lon, lat) in enumerate(_seeds_in(rng, inner, rng.randint(*per_grid)), start=1):
        made.append(
            DemoBuilding(
                code=f"{g_code}-B{b:02d}",
                name=f"{b}号楼",
                grid_code=g_code,
                address=f"东营区{road}{number + 2 * b}号{c_name}{b}号楼",
                lon=round(lon, 6),
                lat=round(lat, 6),
                floors=rng.choice(floors),
            )
        )
    return made


def demo_layout(*, seed: int = 2026, size: str = "full") -> DemoLayout:
    """Everything the demo street holds, computed from the seed alone (no database).

    Geometry is not rounded: communities and grids that meet at a T-junction would each
    round the junction differently and overlap by square metres."""
    if size not in SIZES:
        raise DomainError(
            "demo_size", _("The demo size must be one of: %(sizes)s.") % {"sizes": ", ".join(SIZES)}
        )
    spec = SIZES[size]
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)

    outline = _outline(rng, spec.area_km2)
    places = [
        DemoPlace("district", DISTRICT[0], DISTRICT[1], None),
        DemoPlace("street", STREET[0], STREET[1], DISTRICT[0], to_geojson(outline)),
    ]
    community_cells = _voronoi_cells(
        _seeds_in(rng, outline, spec.communities, centred=0.6), outline, relax=1
    )
    # Community codes run west→east, north→south as well.
    order = grid_sequence_order([(c.centroid.x, c.centroid.y) for c in community_cells])
    community_cells = [community_cells[i] for i in order]
    # Grids follow the load (households), not the area: the town's communities get more.
    rings = [_ring(cell, outline) for cell in community_cells]
    grid_counts = _apportion(
        [
            cell.area * (0.25 + math.exp(-3 * ring**2))
            for cell, ring in zip(community_cells, rings, strict=True)
        ],
        spec.grids,
        minimum=2,
    )
    buildings: list[DemoBuilding] = []
    accounts = [
        DemoAccount("admin", "admin", fake.name()),
        DemoAccount("leader", "leader", fake.name(), area_code=STREET[0]),
        DemoAccount("dispatcher1", "dispatcher", fake.name(), area_code=STREET[0]),
        DemoAccount("dispatcher2", "dispatcher", fake.name(), area_code=STREET[0]),
    ]
    for c_index, (cell, k) in enumerate(zip(community_cells, grid_counts, strict=True), start=1):
        c_code = f"{STREET[0]}{c_index:03d}"
        c_name = COMMUNITY_NAMES[c_index - 1]
        places.append(DemoPlace("community", c_code, c_name, STREET[0], to_geojson(cell)))
        accounts.append(DemoAccount(f"c{c_index:03d}", "dispatcher", fake.name(), area_code=c_code))
        grid_cells = _voronoi_cells(_seeds_in(rng, cell, k), cell, relax=2)
        order = grid_sequence_order([(g.centroid.x, g.centroid.y) for g in grid_cells])
        for seq, position in enumerate(order, start=1):
            grid = grid_cells[position]
            g_code = f"{c_code}{seq:03d}"
            g_name = f"{c_name}第{seq}网格"
            land_use = _land_use(rng, _ring(grid, outline))
            places.append(DemoPlace("grid", g_code, g_name, c_code, to_geojson(grid), land_use))
            accounts.append(
                DemoAccount(
                    f"w{c_index:03d}{seq:03d}", "grid_worker", fake.name(), area_code=g_code
                )
            )
            if seq <= MICROGRIDS_PER_COMMUNITY:
                places.extend(_microgrids(grid, g_code, g_name))
            buildings.extend(
                _buildings(rng, grid, g_code, c_name, land_use, spec.buildings_per_grid)
            )
    for code, _name in DEPARTMENTS:
        accounts.append(DemoAccount(f"h{code.lower()}", "handler", fake.name(), department=code))
    # One resident login to try the reporting side; the register step adds the households.
    accounts.append(DemoAccount("resident1", "resident", fake.name()))
    return DemoLayout(seed, size, places, buildings, list(DEPARTMENTS), accounts)


# --- build (database) -----------------------------------------------------------------------


@dataclass
class DemoSummary:
    counts: dict[str, int]
    accounts: list[dict]
    accounts_path: Path | None


def _write_places(ctx: DemoContext) -> None:
    for level in Area.Level.values:
        rows = []
        for place in ctx.layout.level(level):
            parent = ctx.areas[place.parent_code] if place.parent_code else None
            area = Area(
                level=level,
                code=place.code,
                name=place.name,
                parent=parent,
                geometry=place.geometry,
                land_use=place.land_use,
            )
            # bulk_create skips save(), which computes the path.
            area.path = f"{parent.path if parent else '/'}{place.code}/"
            if place.geometry:
                area.area_m2, area.centroid_lon, area.centroid_lat = geometry_stats(place.geometry)
            rows.append(area)
        # Level by level, so that every parent has its primary key before its children.
        ctx.areas.update({a.code: a for a in Area.objects.bulk_create(rows, batch_size=500)})
    made = Building.objects.bulk_create(
        (
            Building(
                code=b.code,
                name=b.name,
                grid=ctx.areas[b.grid_code],
                address=b.address,
                lon=b.lon,
                lat=b.lat,
                floors=b.floors,
            )
            for b in ctx.layout.buildings
        ),
        batch_size=1000,
    )
    ctx.buildings.update({b.code: b for b in made})
    bump_grid_index_version()


def _write_departments(ctx: DemoContext) -> None:
    street = ctx.areas[STREET[0]]
    made = Department.objects.bulk_create(
        Department(code=code, name=name, area=street) for code, name in ctx.layout.departments
    )
    ctx.departments.update({d.code: d for d in made})


def _write_accounts(ctx: DemoContext) -> None:
    users = [
        User(
            username=a.username,
            role=a.role,
            name=a.name,
            password=ctx.password_hash,
            area=ctx.areas[a.area_code] if a.area_code else None,
            department=ctx.departments[a.department] if a.department else None,
            is_staff=a.role == User.Role.ADMIN,
            is_superuser=a.role == User.Role.ADMIN,
        )
        for a in ctx.layout.accounts
    ]
    ctx.users.update({u.username: u for u in User.objects.bulk_create(users, batch_size=500)})
    ctx.accounts.extend(_account_row(u) for u in users)


BASE_STEPS: list[DemoStep] = [_write_places, _write_departments, _write_accounts]


def _account_row(user: User) -> dict:
    return {
        "username": user.username,
        "password": DEMO_PASSWORD,
        "role": user.role,
        "name": user.name,
        "area_code": user.area.code if user.area else None,
        "area_level": user.area.level if user.area else None,
        "department": user.department.code if user.department else None,
    }


def demo_accounts() -> list[dict]:
    """The demo logins in the database: the users whose password is still the demo one.

    Every demo account shares one hash (one Argon2 run for the whole build), so the demo
    hash is the most common one; a user who changed their password drops out."""
    common = (
        User.objects.values("password")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("-n", "password")[:3]
    )
    for row in common:
        if check_password(DEMO_PASSWORD, row["password"]):
            users = User.objects.filter(password=row["password"]).select_related(
                "area", "department"
            )
            return [_account_row(u) for u in users.order_by("pk")]
    return []


def demo_accounts_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-accounts.json"


def demo_accounts_write(path: Path | None = None, accounts: list[dict] | None = None) -> list[dict]:
    """Write the demo logins as JSON (a list of {username, password, role, name, area_code,
    area_level, department}) to `path` (default var/demo-accounts.json); read them from
    the database unless given."""
    path = path or demo_accounts_path()
    if accounts is None:
        accounts = demo_accounts()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(accounts, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return accounts


def _refuse_conflicts(layout: DemoLayout) -> None:
    if Area.objects.filter(code__in=[DISTRICT[0], STREET[0]]).exists():
        raise DomainError(
            "demo_exists",
            _("The demo street is already in this database; build it into an empty one."),
        )
    usernames = [a.username for a in layout.accounts]
    taken = list(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    if taken:
        raise DomainError(
            "demo_usernames_taken",
            _("These usernames are taken: %(names)s.") % {"names": ", ".join(sorted(taken))},
        )
    codes = [code for code, _name in layout.departments]
    taken = list(Department.objects.filter(code__in=codes).values_list("code", flat=True))
    if taken:
        raise DomainError(
            "demo_departments_taken",
            _("These department codes are taken: %(codes)s.") % {"codes": ", ".join(sorted(taken))},
        )


def demo_build(
    *,
    seed: int = 2026,
    size: str = "full",
    progress: bool = True,
    accounts_path: Path | None = None,
) -> DemoSummary:
    """Write the demo street, its departments and staff logins, then every registered step,
    in one transaction; then write the logins file. Refuses when the street, a demo
    username or a department code is already in the database."""
    steps = [*BASE_STEPS, *DEMO_STEPS]
    with tqdm(total=len(steps) + 2, desc="demo street", disable=not progress, unit="step") as bar:
        bar.set_postfix_str("layout")
        layout = demo_layout(seed=seed, size=size)
        bar.update()
        bar.set_postfix_str("password")
        # One hash for every demo account: Argon2 costs ~50 ms a call, on purpose.
        fake = Faker("zh_CN")
        fake.seed_instance(seed + 1)
        ctx = DemoContext(
            layout=layout,
            rng=random.Random(seed + 1),
            fake=fake,
            password_hash=make_password(DEMO_PASSWORD),
            progress=progress,
        )
        bar.update()
        with transaction.atomic():
            _refuse_conflicts(layout)
            for step in steps:
                bar.set_postfix_str(step.__name__.lstrip("_"))
                step(ctx)
                bar.update()
            audit_record(action="demo.build", detail={"seed": seed, "size": size})
        planner_statistics_refresh()
    path = accounts_path if accounts_path is not None else demo_accounts_path()
    demo_accounts_write(path, ctx.accounts)
    counts = {level: len(layout.level(level)) for level in Area.Level.values}
    counts |= {
        "buildings": len(layout.buildings),
        "departments": len(layout.departments),
        "accounts": len(ctx.accounts),
        **ctx.summary,
    }
    return DemoSummary(counts=counts, accounts=ctx.accounts, accounts_path=path)
