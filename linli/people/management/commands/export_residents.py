from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from linli.areas.models import Area
from linli.core.errors import DomainError
from linli.people import excel


class Command(BaseCommand):
    help = (
        "Export the residents USERNAME may see to an xlsx, masked unless --full (which needs "
        "the right and a --reason). Logged in the access log like an export from the page."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="the .xlsx file to write")
        parser.add_argument("--user", required=True, help="act as this user (their scope)")
        parser.add_argument("--area", default="", help="a community or grid code")
        parser.add_argument("--tag", default="", help="a tag code")
        parser.add_argument("--full", action="store_true", help="unmasked ID numbers and phones")
        parser.add_argument("--reason", default="", help="why (required with --full)")

    def handle(self, *args, **options):
        viewer = get_user_model().objects.filter(username=options["user"]).first()
        if viewer is None:
            raise CommandError(f"No user {options['user']!r}.")
        area = None
        if options["area"]:
            area = Area.objects.filter(code=options["area"]).first()
            if area is None:
                raise CommandError("Unknown area.")
        try:
            export = excel.residents_export(
                viewer=viewer,
                area=area,
                tag=options["tag"] or None,
                full=options["full"],
                reason=options["reason"],
            )
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        Path(options["out"]).write_bytes(export.content)
        kind = "unmasked" if export.full else "masked"
        self.stdout.write(
            self.style.SUCCESS(f"{export.rows} people exported ({kind}) to {options['out']}.")
        )
