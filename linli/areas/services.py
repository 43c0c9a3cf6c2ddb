"""Writes for areas: code rules, the boundary import and boundary changes."""

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
CODE_DIGITS = {
    Area.Level.DISTRICT: 6,
    Area.Level.STREET: 9,
    Area.Level.COMMUNITY: 12,
    Area.Level.GRID: 15,
}
LEVEL_BY_DIGITS = {n: level for level, n in CODE_DIGITS.items()}
PARENT_LEVEL = {
    Area.Level.STREET: Area.Level.DISTRICT,
    Area.Level.COMMUNITY: Area.Level.STREET,
    Area.Level.GRID: Area.Level.COMMUNITY,
    Area.Level.MICROGRID: Area.Level.GRID,
}
# What a file may carry: unit grids, and the communities, streets and districts above them
# when those are not in the database yet. Micro-grids are drawn by the grid workers
# themselves and do not come from the survey office's files.
IMPORT_LEVELS = [Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY, Area.Level.GRID]
# Overlaps smaller than this are digitising noise (a shared edge drawn twice), not overlap.
OVERLAP_TOLERANCE_M2 = 1.0
DEFAULT_GAP_TOLERANCE_M2 = 100.0
MAX_FEATURES = 20_000
NAME_MAX = Area._meta.get_field("name").max_length
_BATCH = 500  # codes per IN (...) query; SQLite caps the number of parameters


def area_code_problems(level: str, code: str, parent_code: str | None) -> list[str]:
    """What is wrong with a code at a level under a parent (GB/T 2260, GB/T 10114, CJ/T 213)."""
    problems = []
    pattern = CODE_PATTERNS.get(level)
    if pattern is None:
        return [_("Unknown level %(level)s.") % {"level": level}]
    if not pattern.match(code or ""):
        if level == Area.Level.MICROGRID:
            problems.append(
                _("A micro-grid code is its grid's 15-digit code, a dash and a number.")
            )
        else:
            problems.append(
                _("A %(level)s code has %(n)d digits; got %(code)s.")
                % {"level": Area.Level(level).label, "n": CODE_DIGITS[level], "code": code or "—"}
            )
    if parent_code is not None and code and not code.startswith(parent_code):
        problems.append(
            _("The code %(code)s does not start with its parent's code %(parent)s.")
            % {"code": code, "parent": parent_code}
        )
    if level == Area.Level.GRID and pattern.match(code or "") and code.endswith("000"):
        problems.append(_("Grid sequence numbers start at 001."))
    return problems


def _parent_code(level: str, code: str) -> str | None:
    if level == Area.Level.DISTRICT:
        return None
    return code[: CODE_DIGITS[PARENT_LEVEL[level]]]


@dataclass
class FeatureReport:
    index: int
    code: str
    name: str
    level: str = Area.Level.GRID
    problems: list[str] = field(default_factory=list)

    @property
    def level_label(self) -> str:
        return Area.Level(self.level).label


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
                {
                    "index": f.index,
                    "code": f.code,
                    "name": f.name,
                    "level": f.level,
                    "problems": f.problems,
                }
                for f in self.features
            ],
        }


def _in_batches(values):
    values = sorted(values)
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _stored(codes) -> dict[str, Area]:
    found = {}
    for batch in _in_batches(codes):
        found.update({a.code: a for a in Area.objects.filter(code__in=batch)})
    return found


def _parse_geometry(report: FeatureReport, geometry):
    """The feature's polygon, or None after recording why there is none."""
    if geometry is None and report.level != Area.Level.GRID:
        return None  # a community may come without a boundary; a grid may not
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        report.problems.append(_("The geometry must be a Polygon or MultiPolygon."))
        return None
    try:
        geom = shapely.force_2d(shape(geometry))
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException):
        report.problems.append(_("The geometry's coordinates are malformed."))
        return None
    if geom.is_empty:
        report.problems.append(_("The geometry is empty."))
        return None
    west, south, east, north = geom.bounds
    # Written so that NaN fails it too.
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        report.problems.append(_("Coordinates are outside longitude/latitude range (WGS-84)."))
        return None
    if not geom.is_valid:
        report.problems.append(
            _("Invalid polygon (for example self-intersecting): %(why)s")
            % {"why": explain_validity(geom)}
        )
        return None
    return geom


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
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        code = str(props.get("code", "") or "").strip()
        name = str(props.get("name", "") or "").strip()
        declared = str(props.get("level", "") or "").strip()
        level = declared or LEVEL_BY_DIGITS.get(len(code), Area.Level.GRID)
        report = FeatureReport(index=i, code=code, name=name)
        reports.append(report)
        geoms.append(None)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.problems.append(_("Not a GeoJSON Feature."))
            continue
        if not isinstance(feature.get("properties"), dict | None):
            report.problems.append(_("The properties must be a JSON object."))
        if level not in IMPORT_LEVELS:
            report.problems.append(
                _("The property 'level' must be one of: %(levels)s.")
                % {"levels": ", ".join(IMPORT_LEVELS)}
            )
        else:
            report.level = level
        if not code:
            report.problems.append(_("The property 'code' is missing."))
        else:
            report.problems.extend(area_code_problems(report.level, code, None))
        if not name:
            report.problems.append(_("The property 'name' is missing."))
        elif len(name) > NAME_MAX:
            report.problems.append(_("The name is longer than %(n)d characters.") % {"n": NAME_MAX})
        geoms[-1] = _parse_geometry(report, feature.get("geometry"))
    return reports, geoms, []


def _check_codes(reports: list[FeatureReport], replace: bool) -> dict[str, Area]:
    """Duplicates, parents that exist nowhere, codes already stored; returns the stored
    areas the import will hang its features under or update."""
    seen: dict[str, int] = {}
    for report in reports:
        if report.code in seen and report.code:
            report.problems.append(
                _("Duplicate code: feature %(other)d has the same code.")
                % {"other": seen[report.code]}
            )
        seen.setdefault(report.code, report.index)
    wellformed = [r for r in reports if r.code and not area_code_problems(r.level, r.code, None)]
    in_file = {r.code: r.level for r in wellformed}
    parents = {_parent_code(r.level, r.code) for r in wellformed} - {None}
    stored = _stored(parents | set(in_file))
    for report in wellformed:
        parent = _parent_code(report.level, report.code)
        parent_level = PARENT_LEVEL.get(report.level)
        if parent is not None:
            found = stored.get(parent)
            if (found is None or found.level != parent_level) and in_file.get(
                parent
            ) != parent_level:
                report.problems.append(
                    _("No %(level)s with code %(code)s exists in the database or in this file.")
                    % {"level": Area.Level(parent_level).label, "code": parent}
                )
        existing = stored.get(report.code)
        if existing is None:
            continue
        if existing.level != report.level:
            report.problems.append(
                _("The code %(code)s already belongs to a %(level)s.")
                % {"code": report.code, "level": existing.get_level_display()}
            )
        elif not replace:
            report.problems.append(
                _("A %(level)s with this code already exists (choose replace to update it).")
                % {"level": report.level_label}
            )
    return stored


def _check_overlaps(reports: list[FeatureReport], geoms: list, replace: bool) -> None:
    """Pairs of grids in the file that overlap, and grids that overlap a grid already
    stored (other than the one they replace)."""
    indexed = [
        (i, g) for i, g in enumerate(geoms) if g is not None and reports[i].level == Area.Level.GRID
    ]
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
        # Each pair of file features once; the file-vs-stored pairs from the file side.
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


def _parts(geom) -> list:
    return [p for p in getattr(geom, "geoms", [geom]) if not p.is_empty]


def _check_gaps(
    reports: list[FeatureReport], geoms: list, stored: dict[str, Area], tolerance_m2: float
) -> None:
    """Grids must tile their community seamlessly (standards §1.2): no hole inside the
    union of a community's grids and, when the community has a boundary, no part of it
    uncovered and no grid reaching beyond it."""
    by_community: dict[str, list[int]] = {}
    boundaries: dict[str, object] = {}
    for i, report in enumerate(reports):
        if geoms[i] is None:
            continue
        if report.level == Area.Level.GRID:
            by_community.setdefault(report.code[:12], []).append(i)
        elif report.level == Area.Level.COMMUNITY:
            boundaries[report.code] = geoms[i]
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
        holes = [shapely.Polygon(ring) for part in _parts(union) for ring in part.interiors]
        boundary = boundaries.get(community_code)
        community = stored.get(community_code)
        if boundary is None and community is not None and community.geometry:
            boundary = shape(community.geometry)
        if boundary is not None:
            holes += _parts(boundary.difference(union))
            for i in members:
                beyond = geodesic_area_m2(geoms[i].difference(boundary))
                if beyond > tolerance_m2:
                    reports[i].problems.append(
                        _("Reaches %(m2).0f m² beyond its community's boundary.") % {"m2": beyond}
                    )
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


def _write(feature_collection, reports, geoms, stored, report: ImportReport) -> None:
    areas = dict(stored)
    rank = {level: n for n, level in enumerate(IMPORT_LEVELS)}
    # Parents before children, so that each row's path is built from a saved parent.
    for feature in sorted(reports, key=lambda f: (rank[f.level], f.code)):
        geom = geoms[feature.index - 1]
        props = feature_collection["features"][feature.index - 1].get("properties") or {}
        parent = _parent_code(feature.level, feature.code)
        defaults = {
            "level": feature.level,
            "name": feature.name,
            "parent": areas[parent] if parent else None,
        }
        if geom is not None:
            geometry = to_geojson(geom)
            area_m2, lon, lat = geometry_stats(geometry)
            defaults |= {
                "geometry": geometry,
                "area_m2": area_m2,
                "centroid_lon": lon,
                "centroid_lat": lat,
            }
        if feature.level == Area.Level.GRID:
            defaults |= {
                "land_use": str(props.get("land_use", "") or "")[:50],
                "management_level": str(props.get("management_level", "") or "")[:50],
                "responsible_party": str(props.get("responsible_party", "") or "")[:100],
            }
        area, created = Area.objects.update_or_create(code=feature.code, defaults=defaults)
        areas[area.code] = area
        report.created += created
        report.updated += not created


def grids_import(
    *,
    feature_collection,
    actor=None,
    gap_tolerance_m2: float = DEFAULT_GAP_TOLERANCE_M2,
    replace: bool = False,
    dry_run: bool = False,
    request=None,
) -> ImportReport:
    """Check every feature (codes, parents, polygons, overlaps, gaps), then write all of
    them in one transaction, or none when any feature is rejected or `dry_run` is set.
    Unit grids need a polygon; their community, street and district may come in the same
    file (level from the code's length, or the property `level`)."""
    reports, geoms, general = _parse_features(feature_collection)
    report = ImportReport(features=reports, general=general, dry_run=dry_run)
    if general:
        return report
    stored = _check_codes(reports, replace)
    _check_overlaps(reports, geoms, replace)
    _check_gaps(reports, geoms, stored, gap_tolerance_m2)
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        _write(feature_collection, reports, geoms, stored, report)
        # Once for the whole file; the per-row signal bumps are inside this transaction.
        bump_grid_index_version()
        audit_record(
            action="areas.grids_import",
            actor=actor,
            request=request,
            detail={
                "created": report.created,
                "updated": report.updated,
                "codes": [f.code for f in reports][:1000],
            },
        )
    return report


def area_update_geometry(*, area: Area, geometry: dict, actor=None) -> Area:
    """Replace an area's boundary. A grid's new boundary must be a valid polygon that
    overlaps no other grid; the point-in-grid index then rebuilds everywhere."""
    try:
        geom = shapely.force_2d(shape(geometry))
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException):
        geom = None
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise DomainError(
            "invalid_geometry",
            _("The boundary is not a valid polygon."),
            {"geometry": [_("The geometry must be a Polygon or MultiPolygon.")]},
        )
    if not geom.is_valid:
        raise DomainError(
            "invalid_geometry",
            _("The boundary is not a valid polygon."),
            {"geometry": [explain_validity(geom)]},
        )
    if area.level == Area.Level.GRID:
        codes, others = [], []
        for code, other in (
            Area.objects.filter(level=Area.Level.GRID, geometry__isnull=False)
            .exclude(pk=area.pk)
            .values_list("code", "geometry")
        ):
            codes.append(code)
            others.append(shape(other))
        near = shapely.STRtree(others).query(geom, predicate="intersects") if others else []
        overlapping = [
            codes[i]
            for i in sorted(near)
            if geodesic_area_m2(geom.intersection(others[i])) > OVERLAP_TOLERANCE_M2
        ]
        if overlapping:
            raise DomainError(
                "overlap",
                _("The boundary overlaps other grids."),
                {"geometry": [", ".join(overlapping)]},
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
