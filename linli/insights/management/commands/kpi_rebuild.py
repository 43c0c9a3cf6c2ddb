from django.core.management.base import BaseCommand

from linli.insights.services import counters_recount, tally_rebuild, tally_rebuild_sql


class Command(BaseCommand):
    help = (
        "Rebuild the KPI rollups from the cases. --recount first recounts every case's KPI "
        "counters from its timeline (after upgrading from a version without them). --sql "
        "rebuilds set-based, for millions of cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("--recount", action="store_true")
        parser.add_argument("--sql", action="store_true", help="INSERT … SELECT, not a fold")

    def handle(self, *args, recount=False, sql=False, **options):
        if recount:
            self.stdout.write(f"recounted: {counters_recount()} case(s) changed")
        result = tally_rebuild_sql() if sql else tally_rebuild()
        self.stdout.write(f"rebuilt: {result.cases} case(s), {result.rows} rollup row(s)")
