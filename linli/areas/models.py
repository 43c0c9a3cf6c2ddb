from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Area(models.Model):
    """One place in the hierarchy district → street → community → grid → micro-grid.

    Codes follow GB/T 2260 / GB/T 10114 (district 6, street 9, community 12 digits) and
    CJ/T 213 for unit grids (15 characters: community code + 3-character sequence numbered
    west→east, north→south). Micro-grids and lanes sit under a grid and are kept out of the
    15-character code (standards §1.2): their code is the grid's plus "-NN".
    `path` is the chain of codes from the root, so a scope's subtree is one indexed
    prefix match.
    """

    class Level(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        COMMUNITY = "community", _("community")
        GRID = "grid", _("grid")
        MICROGRID = "microgrid", _("micro-grid")

    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    # GeoJSON geometry (Polygon or MultiPolygon), WGS-84 longitude/latitude.
    geometry = models.JSONField(_("boundary"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    centroid_lon = models.FloatField(null=True, blank=True)
    centroid_lat = models.FloatField(null=True, blank=True)
    # Grid attributes of the Beijing DB11 grid standard; the responsible party defaults to
    # the territorial unit (属地兜底) when left blank.
    land_use = models.CharField(_("land use"), max_length=50, blank=True)
    management_level = models.CharField(_("management level"), max_length=50, blank=True)
    responsible_party = models.CharField(_("responsible party"), max_length=100, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        constraints = [
            models.CheckConstraint(
                condition=Q(level="district") | Q(parent__isnull=False),
                name="area_parent_required_below_district",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.path = f"{self.parent.path if self.parent_id else '/'}{self.code}/"
        super().save(*args, **kwargs)

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)

    def ancestor_codes(self) -> list[str]:
        return [code for code in self.path.strip("/").split("/") if code]


class Building(models.Model):
    """A building (楼栋) or courtyard in a grid; households attach here."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    grid = models.ForeignKey(
        Area,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="buildings",
        limit_choices_to={"level__in": [Area.Level.GRID, Area.Level.MICROGRID]},
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self):
        return self.name


class GridIndexVersion(models.Model):
    """One row whose counter moves whenever a grid polygon changes, so every process knows
    its in-memory point-in-grid index is stale (see areas/geo.py)."""

    version = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"grid index v{self.version}"


def _grid_changed(sender, instance: Area, **kwargs):
    if instance.level == Area.Level.GRID:
        from linli.areas.geo import bump_grid_index_version

        bump_grid_index_version()


# A safety net for grids saved outside the services (admin, shell, fixtures); the import
# and the demo bump the version once for a whole batch.
models.signals.post_save.connect(_grid_changed, sender=Area, dispatch_uid="area_grid_saved")
models.signals.post_delete.connect(_grid_changed, sender=Area, dispatch_uid="area_grid_deleted")
