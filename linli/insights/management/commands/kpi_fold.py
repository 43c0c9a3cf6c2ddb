from django.core.management.base import BaseCommand

from linli.insights.services import tally_fold


class Command(BaseCommand):
    help = "Fold the case changes not yet counted into the KPI rollups (run from cron)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="at most this many cases")

    def handle(self, *args, limit=None, **options):
        result = tally_fold(limit=limit)
        self.stdout.write(f"folded {result.cases} case(s), {result.rows} rollup row change(s)")
