from django.core.management.base import BaseCommand

from linli.core.audit import audit_record
from linli.core.crypto import current_key_id, rotate_encrypted_fields


class Command(BaseCommand):
    help = (
        "Re-encrypt every ID number and phone under LINLI_FIELD_KEY and recompute the blind "
        "indexes; the old key must be in LINLI_FIELD_KEY_PREVIOUS. Safe to run again."
    )

    def handle(self, *args, **options):
        changed = rotate_encrypted_fields()
        audit_record(action="crypto.rotate", detail={"key_id": current_key_id(), **changed})
        for name, n in changed.items():
            self.stdout.write(f"{name}: {n} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"every field is under key {current_key_id()}"))
