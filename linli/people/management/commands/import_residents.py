from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from linli.core.errors import DomainError
from linli.people import excel


class Command(BaseCommand):
    help = (
        "Import residents from an xlsx in the template's columns, acting as USERNAME (the "
        "same scope and checks as the import page). Exits 1 when rows are refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx file")
        parser.add_argument("--user", required=True, help="act as this user (their scope)")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--good-rows-only",
            action="store_true",
            help="import the good rows and leave out the bad ones (default: all or nothing)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        actor = get_user_model().objects.filter(username=options["user"]).first()
        if actor is None:
            raise CommandError(f"No user {options['user']!r}.")
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if options["no_progress"]:
                return
            bar = bars.get(stage)
            if bar is None:
                for other in bars.values():
                    other.close()
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="row")
            bar.update(done - bar.n)

        try:
            report = excel.residents_import(
                file=options["file"],
                actor=actor,
                mode=excel.MODE_GOOD if options["good_rows_only"] else excel.MODE_ALL,
                dry_run=options["dry_run"],
                progress=progress,
            )
        except (DomainError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        for problem in report.problems:
            row = problem.row if problem.row is not None else "-"
            self.stdout.write(f"row {row}\t{problem.column}\t{problem.message}")
        summary = (
            f"{report.rows_total} rows, {report.rows_good} good, {len(report.problems)} problems"
        )
        if report.committed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{summary}; imported {report.residents_created} people, "
                    f"{report.households_created} new households, "
                    f"{report.households_joined} existing households joined."
                )
            )
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(f"{summary}; dry run, nothing written."))
        else:
            raise CommandError(f"{summary}; nothing written.")
