"""Load the catalogue of matters (派单目录) into the database: run once after the first
`migrate` of an install, and again with --update after upgrading linli to take the new
catalogue's limits and questions. See docs/catalogue.md."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from linli.cases.services import CATALOGUE_PATH, catalogue_load, catalogue_read
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = "Add the catalogue's missing classes and matters; --update refreshes shipped ones."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", default=None, help=f"a catalogue JSON file (default {CATALOGUE_PATH})"
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help="also overwrite names, texts, flags, limits and questions of the codes in "
            "the file (never deletes; administrators' own matters stay)",
        )

    def handle(self, *args, file=None, update=False, **options):
        try:
            report = catalogue_load(data=catalogue_read(file), update=update)
        except DomainError as exc:
            for label, messages in exc.fields.items():
                for message in messages:
                    self.stderr.write(f"{label}: {message}")
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            _(
                "Classes: %(cc)d added, %(cu)d updated. Matters: %(mc)d added, %(mu)d updated, "
                "%(mn)d unchanged, %(ml)d linked to their department."
            )
            % {
                "cc": report.classes_created,
                "cu": report.classes_updated,
                "mc": report.matters_created,
                "mu": report.matters_updated,
                "mn": report.matters_unchanged,
                "ml": report.departments_linked,
            }
        )
        by_department: dict[str, list[str]] = {}
        for code, department in sorted(report.departments_missing.items()):
            by_department.setdefault(department, []).append(code)
        for department, codes in sorted(by_department.items()):
            self.stdout.write(
                _(
                    "No department has the code %(department)s: %(n)d matters (%(codes)s) have "
                    "no lead department until it exists and this command runs again."
                )
                % {"department": department, "n": len(codes), "codes": ", ".join(codes)}
            )
