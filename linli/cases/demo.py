"""The demo street's catalogue of matters: the shipped file, loaded once the demo's
departments exist so that every matter gets its lead department."""

from linli.cases.models import Matter
from linli.cases.services import catalogue_load
from linli.demo.services import DemoContext, register_demo_step


@register_demo_step
def demo_catalogue(ctx: DemoContext) -> None:
    """Load catalogue/matters.json (idempotent: a catalogue loaded before the build keeps
    its edits and only gains lead departments)."""
    catalogue_load()
    ctx.summary["matters"] = Matter.objects.count()
