from django.core.management.base import BaseCommand, CommandError

from linli.insights.services import counters_differences, tally_check


class Command(BaseCommand):
    help = (
        "Check every KPI rollup row against a full scan of the cases and report any "
        "difference (exit 1). --deep also checks every case's counters against its timeline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20, help="report at most this many")
        parser.add_argument(
            "--deep", action="store_true", help="also recount every case from its timeline"
        )

    def handle(self, *args, limit=20, deep=False, **options):
        result = tally_check(limit=limit)
        failed = False
        for difference in result.differences:
            self.stdout.write(f"rollup differs: {difference}")
        if result.ok:
            self.stdout.write(f"rollups match the cases: {result.rows} row(s) checked")
        else:
            failed = True
        if deep:
            wrong = counters_differences(limit=limit)
            for difference in wrong:
                self.stdout.write(f"counters differ from the timeline: {difference}")
            if not wrong:
                self.stdout.write("every case's counters match its timeline")
            failed = failed or bool(wrong)
        if failed:
            raise CommandError("the KPI rollups do not match the cases (see above)")
