"""The import's report: every problem found, by row and column, and what was written."""

from dataclasses import dataclass, field

MODE_ALL = "all"
MODE_GOOD = "good"


@dataclass(frozen=True)
class Problem:
    row: int | None  # as Excel numbers it; None for the file as a whole
    column: str  # the header, in the user's language
    message: str
    letter: str = ""  # the column letter (A, B, …)

    def __iter__(self):
        return iter((self.row, self.column, self.message))


@dataclass
class ImportReport:
    mode: str = MODE_ALL
    dry_run: bool = False
    rows_total: int = 0
    rows_good: int = 0
    problems: list[Problem] = field(default_factory=list)
    # A problem with the file itself (not xlsx, too big, headers): nothing can be imported.
    fatal: bool = False
    households_created: int = 0
    households_joined: int = 0
    residents_created: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_bad(self) -> int:
        return self.rows_total - self.rows_good

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "rows_good": self.rows_good,
            "households_created": self.households_created,
            "households_joined": self.households_joined,
            "residents_created": self.residents_created,
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


class _FileProblem(Exception):
    def __init__(self, message: str, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.problem = Problem(row, column, message)
