import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from linli.areas.services import DEFAULT_GAP_TOLERANCE_M2, grids_import


class Command(BaseCommand):
    help = (
        "Check a GeoJSON FeatureCollection of unit grids and import it: all features or, "
        "when any is rejected, none. Exits 1 when rejected."
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
            "--replace", action="store_true", help="update the boundary of existing grids"
        )

    def handle(self, *args, **options):
        try:
            collection = json.loads(options["file"].read_text(encoding="utf-8-sig"))
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{options['file']} is not valid JSON: {exc}") from exc
        report = grids_import(
            feature_collection=collection,
            gap_tolerance_m2=options["gap_tolerance"],
            replace=options["replace"],
            dry_run=options["dry_run"],
        )
        for problem in report.general:
            self.stderr.write(problem)
        for feature in report.features:
            status = "REJECTED" if feature.problems else "ok"
            self.stdout.write(
                f"{feature.index:>5}  {feature.code or '—':<17} {status}  {feature.name}"
            )
            for problem in feature.problems:
                self.stdout.write(f"         - {problem}")
        if not report.ok:
            raise CommandError(
                f"{len(report.rejected)} of {len(report.features)} features rejected; "
                "nothing was imported"
            )
        if report.dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"{len(report.features)} features checked, no problems")
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"imported: {report.created} new, {report.updated} updated")
            )
