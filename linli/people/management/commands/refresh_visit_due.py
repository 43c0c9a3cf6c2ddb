"""Recompute every resident's next visit date (Resident.next_visit_due), which the
services keep in step with tags and visits. Run it after changing a tag's visit interval
in the admin, or with --check to prove the stored dates are right."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import gettext as _

from linli.people.models import Resident
from linli.people.services import visit_due_refresh_many

SHOWN = 20


class Command(BaseCommand):
    help = "Recompute next_visit_due for every resident; --check only compares."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit 1 when any stored date differs from the computed one.",
        )

    def handle(self, *args, check: bool = False, **options):
        # Everyone else has no active tag that needs visits and no stored date: their
        # computed date is None and already right, so they are not read one by one.
        ids = list(
            Resident.objects.filter(
                Q(next_visit_due__isnull=False)
                | Q(
                    tag_links__tag__is_active=True,
                    tag_links__tag__visit_interval_days__isnull=False,
                )
            )
            .distinct()
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        examined = len(ids)
        stale = visit_due_refresh_many(ids, check_only=check)
        changed = len(stale)
        if check:
            if stale:
                shown = ", ".join(str(pk) for pk in stale[:SHOWN])
                raise CommandError(
                    _("%(n)d residents have a wrong next visit date (ids %(ids)s).")
                    % {"n": len(stale), "ids": shown + ("…" if len(stale) > SHOWN else "")},
                    returncode=1,
                )
            self.stdout.write(
                _("All next visit dates are right (%(n)d residents examined).") % {"n": examined}
            )
            return
        self.stdout.write(
            _("%(changed)d of %(n)d residents examined had their next visit date changed.")
            % {"changed": changed, "n": examined}
        )
