from django.core.management.base import BaseCommand, CommandError

from linli.core.audit import audit_verify
from linli.core.models import AuditEvent


class Command(BaseCommand):
    help = "Walk the hash-chained audit trail; exit 1 when any event was changed or removed."

    def handle(self, *args, **options):
        broken = audit_verify()
        if broken:
            shown = ", ".join(str(pk) for pk in broken[:50])
            raise CommandError(f"audit chain broken at {len(broken)} event(s): {shown}")
        self.stdout.write(
            self.style.SUCCESS(f"audit chain intact ({AuditEvent.objects.count()} events)")
        )
