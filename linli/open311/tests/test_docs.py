"""docs/open311.md and the code agree on the statuses and the settings."""

import re
from pathlib import Path

from django.conf import settings

from linli.open311 import statuses

DOCS = Path(__file__).resolve().parents[3] / "docs"
ROW = re.compile(r"^\| `(\w+)` \| (open|closed) \| `(\w+)` \|$", re.M)


def test_the_documented_statuses_are_the_mapping():
    rows = ROW.findall((DOCS / "open311.md").read_text())
    assert {s: (o, e) for s, o, e in rows} == {
        s.value: (statuses.open_or_closed(s), e) for s, e in statuses.BY_STATUS.items()
    }


def test_every_open311_setting_is_documented():
    names = [n for n in dir(settings) if n.startswith("LINLI_OPEN311_")]
    assert len(names) == 6
    for doc in ("open311.md", "configuration.md"):
        text = (DOCS / doc).read_text()
        assert all(f"`{name}`" in text for name in names), doc
