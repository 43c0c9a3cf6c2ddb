from django.core.management.base import BaseCommand, CommandError

from linli.accounts.models import User
from linli.insights.forms import EvaluationForm
from linli.insights.selectors import kpi_evaluation
from linli.insights.workbook import evaluation_workbook


class Command(BaseCommand):
    help = (
        "Write the monthly evaluation workbook (docs/kpis.md): the communities, "
        "departments and grids ranked by the composite score of LINLI_KPI_WEIGHTS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="the month, YYYY-MM")
        parser.add_argument("--out", required=True, help="the .xlsx file to write")
        parser.add_argument(
            "--user",
            help="write what this user may see (default: the whole system, as an "
            "administrator without an area)",
        )

    def handle(self, *args, month, out, user=None, **options):
        form = EvaluationForm({"month": month})
        if not form.is_valid():
            raise CommandError(f"--month: {' '.join(form.errors['month'])}")
        if user:
            viewer = User.objects.filter(username=user, is_active=True).first()
            if viewer is None:
                raise CommandError(f"--user: no active user {user!r}")
        else:
            # Never saved: only the scope of an area-less administrator is needed.
            viewer = User(username="kpi_evaluation", role="admin", is_active=True)
        evaluation = kpi_evaluation(viewer, form.cleaned_data["month"])
        with open(out, "wb") as file:
            file.write(evaluation_workbook(evaluation))
        rows = sum(len(sheet.rows) for sheet in evaluation.sheets)
        self.stdout.write(f"wrote {out}: {len(evaluation.sheets)} sheet(s), {rows} row(s)")
