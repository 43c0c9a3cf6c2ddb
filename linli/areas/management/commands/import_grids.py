import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.areas.services import DEFAULT_GAP_TOLERANCE_M2, grids_import


class Command(BaseCommand):
    help = (
        "Check a GeoJSON FeatureCollection of unit grids (and any new communities above "
        "them) and import it: every feature or, when any is rejected, none. Exits with "
        "status 1 when rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--gap-tolerance",
            type=float,
            default=DEFAULT_GAP_TOLERANCE_M2,
            metavar="M2",
            help="largest uncovered area (m²) between grids that is not reported",
        )
        parser.add_argument(
            "--replace", action="store_true", help="update areas that already exist"
        )

    def handle(self, *args, **options):
        path = options["file"]
        if options["gap_tolerance"] < 0:
            raise CommandError(_("--gap-tolerance must be zero or more square metres."))
        try:
            collection = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(
                _("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc}
            ) from exc
        report = grids_import(
            feature_collection=collection,
            gap_tolerance_m2=options["gap_tolerance"],
            replace=options["replace"],
            dry_run=options["dry_run"],
        )
        for problem in report.general:
            self.stderr.write(problem)
        for feature in report.features:
            status = _("REJECTED") if feature.problems else _("ok")
            self.stdout.write(
                f"{feature.index:>5}  {feature.code or '—':<17} {feature.level_label:<6} "
                f"{status}  {feature.name}"
            )
            for problem in feature.problems:
                self.stdout.write(f"         - {problem}")
        if not report.ok:
            raise CommandError(
                _("%(rejected)d of %(total)d features rejected; nothing was imported.")
                % {"rejected": len(report.rejected), "total": len(report.features)}
                if report.features
                else _("The file was rejected; nothing was imported.")
            )
        if report.dry_run:
            message = _("%(n)d features checked; no problems.") % {"n": len(report.features)}
        else:
            message = _("Imported: %(created)d new, %(updated)d updated.") % {
                "created": report.created,
                "updated": report.updated,
            }
        self.stdout.write(self.style.SUCCESS(message))
