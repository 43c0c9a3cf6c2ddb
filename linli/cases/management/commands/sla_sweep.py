"""One pass of case supervision (case_services.sla_sweep): the reminder before a deadline,
the overdue notice (督办) and the escalation to the leaders. Run it every ten minutes from
cron or a systemd timer (docs/sla.md); a second run at the same time adds nothing."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases.case_services import sla_sweep


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("Not a date and time: %(text)r (write it like 2026-10-08T09:00).") % {"text": text}
        ) from None
    # A time without an offset is read in TIME_ZONE, like every time an operator types.
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class Command(BaseCommand):
    help = (
        "Remind, supervise and escalate the cases departments are working on; --at ISO "
        "sweeps as of that time (default: now). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            metavar="ISO",
            help="sweep as of this time, e.g. 2026-10-08T09:00 (TIME_ZONE unless an offset "
            "is given)",
        )

    def handle(self, *args, at: str | None = None, **options):
        moment = _moment(at) if at else timezone.now()
        taken = sla_sweep(at=moment)
        self.stdout.write(
            _(
                "SLA sweep at %(at)s: %(remind)d reminders, %(supervise)d overdue notices, "
                "%(escalate)d escalations."
            )
            % {"at": f"{timezone.localtime(moment):%Y-%m-%d %H:%M}", **taken}
        )
