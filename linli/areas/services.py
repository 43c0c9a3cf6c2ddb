"""Writes for areas: code rules and the grid import."""

import re
from dataclasses import dataclass, field

import shapely
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.validation import explain_validity

from linli.areas.geo import (
    bump_grid_index_version,
    geodesic_area_m2,
    geometry_stats,
    to_geojson,
)
from linli.areas.models import Area
from linli.core.audit import audit_record
from linli.core.errors import DomainError

CODE_PATTERNS = {
    Area.Level.DISTRICT: re.compile(r"^\d{6}$"),
    Area.Level.STREET: re.compile(r"^\d{9}$"),
    Area.Level.COMMUNITY: re.compile(r"^\d{12}$"),
    Area.Level.GRID: re.compile(r"^\d{15}$"),
    Area.Level.MICROGRID: re.compile(r"^\d{15}-\d{2,3}$"),
}
PARENT_LEVEL = {
    Area.Level.STREET: Area.Level.DISTRICT,
    Area.Level.COMMUNITY: Area.Level.STREET,
    Area.Level.GRID: Area.Level.COMMUNITY,
    Area.Level.MICROGRID: Area.Level.GRID,
}
# Overlaps smaller than this are digitising noise (a shared edge drawn twice), not overlap.
OVERLAP_TOLERANCE_M2 = 1.0
DEFAULT_GAP_TOLERANCE_M2 = 100.0
MAX_FEATURES = 20_000


def area_code_problems(level: str, code: str, parent_code: str | None) -> list[str]:
    """What is wrong with a code at a level under a parent (GB/T 2260, GB/T 10114, CJ/T 213)."""
    problems = []
    pattern = CODE_PATTERNS.get(level)
    if pattern is None:
        return [_("Unknown level %(level)s.") % {"level": level}]
    if not pattern.match(code or ""):
        lengths = {
            Area.Level.DISTRICT: 6,
            Area.Level.STREET: 9,
            Area.Level.COMMUNITY: 12,
            Area.Level.GRID: 15,
        }
        if level == Area.Level.MICROGRID:
            problems.append(
                _("A micro-grid code is its grid's 15-digit code, a dash and a number.")
            )
        else:
            problems.append(
                _("A %(level)s code has %(n)d digits; got %(code)s.")
                % {"level": Area.Level(level).label, "n": lengths[level], "code": code or "—"}
            )
    if parent_code is not None and code and not code.startswith(parent_code):
        problems.append(
            _("The code %(code)s does not start with its parent's code %(parent)s.")
            % {"code": code, "parent": parent_code}
        )
    if level == Area.Level.GRID and pattern.match(code or "") and code.endswith("000"):
        problems.append(_("Grid sequence numbers start at 001."))
    return problems


@dataclass
class FeatureReport:
    index: int
    code: str
    name: str
    problems: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    features: list[FeatureReport]
    general: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    dry_run: bool = False

    @property
    def rejected(self) -> list[FeatureReport]:
        return [f for f in self.features if f.problems]

    @property
    def ok(self) -> bool:
        return not self.general and not self.rejected

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "created": self.created,
            "updated": self.updated,
            "general": self.general,
            "features": [
                {"index": f.index, "code": f.code, "name": f.name, "problems": f.problems}
                for f in self.features
            ],
        }


def _parse_features(collection) -> tuple[list[FeatureReport], list, list[str]]:
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        return [], [], [_("The file is not a GeoJSON FeatureCollection.")]
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        return [], [], [_("The FeatureCollection has no features.")]
    if len(features) > MAX_FEATURES:
        return [], [], [_("At most %(n)d features per file.") % {"n": MAX_FEATURES}]
    reports, geoms = [], []
    for i, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {} if isinstance(feature, dict) else {}
        code = str(props.get("code", "") or "").strip()
        name = str(props.get("name", "") or "").strip()
        report = FeatureReport(index=i, code=code, name=name)
        reports.append(report)
        geoms.append(None)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.problems.append(_("Not a GeoJSON Feature."))
            continue
        if not code:
            report.problems.append(_("The property 'code' is missing."))
        else:
            report.problems.extend(area_code_problems(Area.Level.GRID, code, None))
        if not name:
            report.problems.append(_("The property 'name' is missing."))
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in (
            "Polygon",
            "MultiPolygon",
        ):
            report.problems.append(_("The geometry must be a Polygon or MultiPolygon."))
            continue
        try:
            geom = shape(geometry)
        except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException):
            report.problems.append(_("The geometry's coordinates are malformed."))
            continue
        if geom.is_empty:
            report.problems.append(_("The geometry is empty."))
            continue
        west, south, east, north = geom.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            report.problems.append(_("Coordinates are outside longitude/latitude range (WGS-84)."))
            continue
        if not geom.is_valid:
            report.problems.append(
                _("Invalid polygon (for example self-intersecting): %(why)s")
                % {"why": explain_validity(geom)}
            )
            continue
        geoms[-1] = geom
    return reports, geoms, []


def _check_codes(reports: list[FeatureReport], replace: bool) -> dict[str, Area]:
    seen: dict[str, int] = {}
    for report in reports:
        if report.code in seen and report.code:
            report.problems.append(
                _("Duplicate code: feature %(other)d has the same code.")
                % {"other": seen[report.code]}
            )
        seen.setdefault(report.code, report.index)
    valid_codes = [
        r.code for r in reports if r.code and not area_code_problems("grid", r.code, None)
    ]
    communities = {
        a.code: a
        for a in Area.objects.filter(
            level=Area.Level.COMMUNITY, code__in={c[:12] for c in valid_codes}
        )
    }
    existing = set(Area.objects.filter(code__in=valid_codes).values_list("code", flat=True))
    for report in reports:
        if report.code not in valid_codes:
            continue
        if report.code[:12] not in communities:
            report.problems.append(
                _("No community with code %(code)s exists; import the community first.")
                % {"code": report.code[:12]}
            )
        if report.code in existing and not replace:
            report.problems.append(
                _("A grid with this code already exists (use replace to update its boundary).")
            )
    return communities


def _check_overlaps(reports: list[FeatureReport], geoms: list, replace: bool) -> None:
    """Pairs of features that overlap, and features that overlap a grid already stored
    (other than the one they replace)."""
    indexed = [(i, g) for i, g in enumerate(geoms) if g is not None]
    if not indexed:
        return
    codes = {reports[i].code for i, _g in indexed}
    stored = [
        (code, shape(geometry))
        for code, geometry in Area.objects.filter(level=Area.Level.GRID, geometry__isnull=False)
        .exclude(code__in=codes if replace else [])
        .values_list("code", "geometry")
    ]
    polygons = [g for _i, g in indexed] + [g for _c, g in stored]
    tree = shapely.STRtree(polygons)
    left, right = tree.query([g for _i, g in indexed], predicate="intersects")
    for a, b in zip(left, right, strict=True):
        if a == b or (b < len(indexed) and a > b):
            continue
        overlap = polygons[a].intersection(polygons[b])
        if overlap.is_empty:
            continue
        m2 = geodesic_area_m2(overlap)
        if m2 <= OVERLAP_TOLERANCE_M2:
            continue
        mine = reports[indexed[a][0]]
        if b >= len(indexed):
            code = stored[b - len(indexed)][0]
            if code == mine.code:
                continue  # the grid this feature would replace; refused elsewhere if not
            mine.problems.append(
                _("Overlaps the existing grid %(code)s by %(m2).0f m².") % {"code": code, "m2": m2}
            )
            continue
        other = reports[indexed[b][0]]
        for first, second in ((mine, other), (other, mine)):
            first.problems.append(
                _("Overlaps feature %(other)d (%(code)s) by %(m2).0f m².")
                % {"other": second.index, "code": second.code, "m2": m2}
            )


def _check_gaps(
    reports: list[FeatureReport], geoms: list, communities: dict, tolerance_m2: float
) -> None:
    """Grids must tile their community seamlessly: no hole inside the union of a
    community's grids, and, when the community has a boundary, no part of it uncovered."""
    by_community: dict[str, list[int]] = {}
    for i, report in enumerate(reports):
        if geoms[i] is not None and len(report.code) == 15:
            by_community.setdefault(report.code[:12], []).append(i)
    for community_code, members in by_community.items():
        codes = [reports[i].code for i in members]
        others = [
            shape(g)
            for g in Area.objects.filter(
                level=Area.Level.GRID, parent__code=community_code, geometry__isnull=False
            )
            .exclude(code__in=codes)
            .values_list("geometry", flat=True)
        ]
        union = shapely.union_all([geoms[i] for i in members] + others)
        holes = [
            shapely.Polygon(ring)
            for part in getattr(union, "geoms", [union])
            for ring in part.interiors
        ]
        community = communities.get(community_code)
        if community is not None and community.geometry:
            uncovered = shape(community.geometry).difference(union)
            holes += [p for p in getattr(uncovered, "geoms", [uncovered]) if not p.is_empty]
        for hole in holes:
            m2 = geodesic_area_m2(hole)
            if m2 <= tolerance_m2:
                continue
            where = hole.representative_point()
            touching = [i for i in members if geoms[i].distance(hole) < 1e-9] or members[:1]
            for i in touching:
                reports[i].problems.append(
                    _("Borders a gap of %(m2).0f m² near %(lon).5f, %(lat).5f.")
                    % {"m2": m2, "lon": where.x, "lat": where.y}
                )


def grids_import(
    *,
    feature_collection,
    actor=None,
    gap_tolerance_m2: float = DEFAULT_GAP_TOLERANCE_M2,
    replace: bool = False,
    dry_run: bool = False,
    request=None,
) -> ImportReport:
    """Check every feature (codes, polygons, overlaps, gaps) and import all of them in one
    transaction, or none when any feature is rejected."""
    reports, geoms, general = _parse_features(feature_collection)
    report = ImportReport(features=reports, general=general, dry_run=dry_run)
    if general:
        return report
    communities = _check_codes(reports, replace)
    _check_overlaps(reports, geoms, replace)
    _check_gaps(reports, geoms, communities, gap_tolerance_m2)
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        for feature, geom in zip(reports, geoms, strict=True):
            geometry = to_geojson(geom)
            area_m2, lon, lat = geometry_stats(geometry)
            props = feature_collection["features"][feature.index - 1].get("properties") or {}
            _area, created = Area.objects.update_or_create(
                code=feature.code,
                defaults={
                    "level": Area.Level.GRID,
                    "name": feature.name,
                    "parent": communities[feature.code[:12]],
                    "geometry": geometry,
                    "area_m2": area_m2,
                    "centroid_lon": lon,
                    "centroid_lat": lat,
                    "land_use": str(props.get("land_use", "") or "")[:50],
                    "management_level": str(props.get("management_level", "") or "")[:50],
                    "responsible_party": str(props.get("responsible_party", "") or "")[:100],
                },
            )
            report.created += created
            report.updated += not created
        bump_grid_index_version()
        audit_record(
            action="areas.grids_import",
            actor=actor,
            request=request,
            detail={"created": report.created, "updated": report.updated},
        )
    return report


def area_update_geometry(*, area: Area, geometry: dict, actor=None) -> Area:
    """Replace a grid's boundary after the same checks as an import."""
    geom = shape(geometry)
    if not geom.is_valid or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise DomainError(
            "invalid_geometry",
            _("The boundary is not a valid polygon."),
            {"geometry": [explain_validity(geom)]},
        )
    area.geometry = to_geojson(geom)
    area.area_m2, area.centroid_lon, area.centroid_lat = geometry_stats(area.geometry)
    with transaction.atomic():
        area.save(
            update_fields=["geometry", "area_m2", "centroid_lon", "centroid_lat", "updated_at"]
        )
        if area.level == Area.Level.GRID:
            bump_grid_index_version()
        audit_record(action="areas.geometry_update", actor=actor, target=area)
    return area
