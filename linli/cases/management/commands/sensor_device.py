"""Register, revoke and list the networked sensors that file alarms through
POST /api/v1/sensors/alarms (linli.cases.intake.sensors). See docs/intake.md."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from linli.cases.intake import sensors
from linli.cases.models import Matter, SensorDevice
from linli.core.errors import DomainError


class Command(BaseCommand):
    help = "Register a sensor device (its key is printed once), revoke one, or list them."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="register a device and print its key once")
        create.add_argument("--code", required=True, help="the device's code, e.g. YG-0001")
        create.add_argument("--name", required=True, help="where it is, e.g. 3号楼2单元301烟感")
        create.add_argument(
            "--matter", required=True, help="the matter code of its alarms, e.g. 11016 (烟感报警)"
        )
        create.add_argument("--lon", required=True, type=float, help="longitude (WGS-84)")
        create.add_argument("--lat", required=True, type=float, help="latitude (WGS-84)")
        create.add_argument("--address", default="", help="its address, copied to every case")
        revoke = commands.add_parser("revoke", help="refuse the device's alarms from now on")
        revoke.add_argument("--code", required=True)
        commands.add_parser("list", help="every device, its state and its last alarm")

    def handle(self, *args, command, **options):
        getattr(self, f"_{command}")(options)

    def _create(self, options):
        matter = Matter.objects.filter(code=options["matter"]).first()
        try:
            device, key = sensors.sensor_device_create(
                code=options["code"],
                name=options["name"],
                matter=matter,
                lon=options["lon"],
                lat=options["lat"],
                address=options["address"],
            )
        except DomainError as exc:
            for field, messages in exc.fields.items():
                for message in messages:
                    self.stderr.write(f"{field}: {message}")
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(self.style.SUCCESS(f"Device {device.code} registered."))
        self.stdout.write(f"key: {key}")
        self.stdout.write(
            "Put the key into the device now: it is shown only this once and cannot be "
            "recovered (only its SHA-256 is stored)."
        )

    def _revoke(self, options):
        device = SensorDevice.objects.filter(code=options["code"]).first()
        if device is None:
            raise CommandError(f"No device {options['code']!r}.")
        sensors.sensor_device_revoke(device=device)
        self.stdout.write(self.style.SUCCESS(f"Device {device.code} revoked."))

    def _list(self, options):
        devices = SensorDevice.objects.select_related("matter").order_by("code")
        for device in devices:
            seen = (
                timezone.localtime(device.last_seen_at).strftime("%Y-%m-%d %H:%M")
                if device.last_seen_at
                else "never"
            )
            state = "active" if device.is_active else "revoked"
            self.stdout.write(
                f"{device.code}\t{device.name}\t{device.matter.code}\t{state}\t"
                f"key {device.key_prefix}…\tlast alarm {seen}"
            )
