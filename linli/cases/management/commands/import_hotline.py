"""Import 12345 orders from a CSV or xlsx file: the same checks and report as the page
cases:import (linli.cases.intake.hotline). A dry run unless --commit. See docs/intake.md."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from linli.cases.intake import hotline
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Check a file of 12345 orders (CSV or .xlsx) and, with --commit, file every row as a "
        "case (all or nothing, or the good rows only). Exits 1 when rows are refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .csv or .xlsx file")
        parser.add_argument(
            "--commit", action="store_true", help="write the cases (default: check only)"
        )
        parser.add_argument(
            "--good-rows-only",
            action="store_true",
            help="import the good rows and leave out the bad ones (default: all or nothing)",
        )
        parser.add_argument(
            "--user",
            help="act as this dispatcher or administrator: rows outside their area are refused "
            "(default: the whole street)",
        )
        parser.add_argument(
            "--crs",
            choices=hotline.CRS_CHOICES,
            default="wgs84",
            help="the coordinate system of the file's 经度/纬度 (default wgs84)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['user']!r}.")
        bar: list[tqdm] = []

        def progress(stage: str, done: int, total: int | None) -> None:
            if options["no_progress"] or stage != "import":
                return
            if not bar:
                bar.append(tqdm(total=total, desc="import", unit="row"))
            bar[0].update(done - bar[0].n)

        try:
            report = hotline.hotline_import(
                file=options["file"],
                actor=actor,
                mode=hotline.MODE_GOOD if options["good_rows_only"] else hotline.MODE_ALL,
                dry_run=not options["commit"],
                crs=options["crs"],
                progress=progress,
            )
        except (DomainError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for b in bar:
                b.close()
        for problem in report.problems:
            row = problem.row if problem.row is not None else "-"
            column = f"{problem.letter} {problem.column}".strip()
            self.stdout.write(f"row {row}\t{column}\t{problem.message}")
        if report.ignored:
            self.stdout.write(f"columns left out: {', '.join(report.ignored)}")
        summary = (
            f"{report.rows_total} rows, {report.rows_good} good, {len(report.problems)} problems"
        )
        if report.committed:
            self.stdout.write(
                self.style.SUCCESS(f"{summary}; imported {report.cases_created} cases.")
            )
        elif report.ok and report.dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"{summary}; dry run, nothing written (add --commit).")
            )
        elif report.dry_run and not report.fatal and report.rows_good:
            raise CommandError(
                f"{summary}; dry run, nothing written (fix the rows, or add --commit "
                "--good-rows-only)."
            )
        else:
            raise CommandError(f"{summary}; nothing written.")
