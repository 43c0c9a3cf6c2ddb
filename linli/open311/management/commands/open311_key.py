"""Issue, revoke and list the keys Open311 clients file requests with (docs/open311.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from linli.core.errors import DomainError
from linli.open311 import services
from linli.open311.models import Open311Key


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "never"


class Command(BaseCommand):
    help = "Issue an Open311 key (printed once), revoke one, or list them."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="issue a key and print it once")
        create.add_argument("--name", required=True, help="who holds it, e.g. FixMyStreet 东营")
        create.add_argument(
            "--channel", default="", help="what its cases are marked with, e.g. fixmystreet"
        )
        revoke = commands.add_parser("revoke", help="refuse the key from now on")
        revoke.add_argument("key", help="the key's name, or the first characters of the key")
        commands.add_parser("list", help="every key, its channel, state and last use")

    def handle(self, *args, command, **options):
        getattr(self, f"_{command}")(options)

    def _create(self, options):
        try:
            key, raw = services.open311_key_issue(name=options["name"], channel=options["channel"])
        except DomainError as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    self.stderr.write(f"{field}: {message}")
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"Key {key.name} issued (channel {key.channel})."))
        self.stdout.write(f"key: {raw}")
        self.stdout.write(
            "Give it to the client now: it is shown only this once and cannot be recovered "
            "(only its SHA-256 is stored)."
        )

    def _revoke(self, options):
        wanted = options["key"].strip()
        named = Q(name=wanted)
        if len(wanted) >= 4:
            named |= Q(key_prefix__startswith=wanted[:8])
        found = list(Open311Key.objects.filter(named)[:2])
        if wanted and len(found) > 1:
            found = [k for k in found if k.name == wanted]
        if len(found) != 1 or not wanted:
            raise CommandError(f"No single key named or starting with {wanted!r}.")
        key = services.open311_key_revoke(key=found[0])
        self.stdout.write(self.style.SUCCESS(f"Key {key.name} revoked."))

    def _list(self, options):
        for key in Open311Key.objects.order_by("name"):
            state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
            self.stdout.write(
                f"{key.name}\t{key.channel}\tkey {key.key_prefix}…\t{state}\t"
                f"last used {_when(key.last_used_at)}"
            )
