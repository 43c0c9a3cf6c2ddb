"""docs/cases.md and the code agree: its table of moves is the transition table."""

import re
from pathlib import Path

from linli.cases import permissions
from linli.cases.workflow import TRANSITIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "cases.md"
ROW = re.compile(r"^\| `(\w+)` \| `(\w+)` \| `(\w+)` \| ([^|]+) \|$", re.M)
WHO = {
    "centre": permissions.CENTRE_ACTIONS,
    "lead department": permissions.DEPARTMENT_ACTIONS,
    "grid worker": permissions.GRID_WORKER_ACTIONS,
    "reporter": permissions.REPORTER_ACTIONS,
}


def test_the_documented_moves_are_the_transition_table():
    rows = ROW.findall(DOC.read_text())
    assert {(f, a): t for f, a, t, _ in rows} == TRANSITIONS
    assert len(rows) == len(TRANSITIONS)


def test_the_documented_actors_are_the_permission_sets():
    for _from, action, _to, who in ROW.findall(DOC.read_text()):
        named = {part.strip() for part in who.split(",")}
        assert named == {role for role, actions in WHO.items() if action in actions}, action
