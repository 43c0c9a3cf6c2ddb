from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import workcal


class Command(BaseCommand):
    help = (
        "Ask the working-time calendar: `workcal 2026-10-01` says whether a day is a working "
        'day and why; `workcal --deadline "2026-09-30 16:00" --hours 4` (or --days 3) prints '
        "the deadline. Times are in TIME_ZONE."
    )

    def add_arguments(self, parser):
        parser.add_argument("day", nargs="?", help="a date, YYYY-MM-DD")
        parser.add_argument("--deadline", metavar="START", help='the start, "YYYY-MM-DD HH:MM"')
        limit = parser.add_mutually_exclusive_group()
        limit.add_argument("--hours", type=float, help="a limit in working hours (工作时)")
        limit.add_argument("--days", type=int, help="a limit in working days (工作日)")

    def handle(self, *args, **options):
        if options["deadline"]:
            self._deadline(options)
        elif options["day"]:
            self._day(options["day"])
        else:
            raise CommandError("give a date, or --deadline with --hours or --days")

    def _day(self, text: str) -> None:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"not a date (YYYY-MM-DD): {text!r}") from None
        answer = workcal.explain_day(day)
        line = (
            _("%(day)s is a working day: %(reason)s [%(source)s]")
            if answer.working
            else _("%(day)s is not a working day: %(reason)s [%(source)s]")
        )
        self.stdout.write(
            line % {"day": f"{day:%Y-%m-%d}", "reason": answer.reason, "source": answer.source}
        )

    def _deadline(self, options) -> None:
        try:
            naive = datetime.fromisoformat(options["deadline"])
        except ValueError:
            raise CommandError(f"not a date and time: {options['deadline']!r}") from None
        start = naive if timezone.is_aware(naive) else timezone.make_aware(naive)
        if options["hours"] is not None:
            amount, unit = options["hours"], workcal.UNIT_HOURS
        elif options["days"] is not None:
            amount, unit = options["days"], workcal.UNIT_DAYS
        else:
            raise CommandError("--deadline needs --hours or --days")
        try:
            due = workcal.deadline(start, amount, unit)
        except ValueError as error:
            raise CommandError(str(error)) from None
        start = timezone.localtime(start)
        line = (
            _("%(start)s + %(amount)s working hours → %(due)s")
            if unit == workcal.UNIT_HOURS
            else _("%(start)s + %(amount)s working days → %(due)s")
        )
        self.stdout.write(
            line
            % {
                "start": f"{start:%Y-%m-%d %H:%M}",
                "amount": f"{amount:g}",
                "due": f"{due:%Y-%m-%d %H:%M}",
            }
        )
