"""Matter suggestion (智能派单): which matters of the catalogue a report's words are most
likely about, learnt from the centre's own closed cases. See docs/suggester.md.

The model is a TF-IDF of character n-grams within word boundaries (Chinese is written
without spaces, so characters and their pairs stand in for words) and a multinomial logistic
regression, whose probabilities are the confidences shown. `suggester_train` (the command
`train_matter_suggester`, weekly) measures it on held-out cases, refits it on all of them and
saves it with its figures to settings.LINLI_SUGGESTER_PATH. Every process loads the file
once and again whenever it changes, so a retrain reaches the web workers without a restart.

With too little history it says so instead of guessing: training refuses, and without a
model `matter_suggest` answers "not enough history" and suggests nothing.

scikit-learn is imported inside the functions that need it, so that processes which never
train or suggest (workers, most commands) do not pay for it.
"""

import logging
import os
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.cases.models import DESCRIPTION_MAX, Case, Matter
from linli.cases.workflow import CLOSED_STATUSES
from linli.core.errors import DomainError
from linli.demo.services import DemoContext, register_demo_step

logger = logging.getLogger("linli.cases")

MIN_CASES = 200
MIN_PER_MATTER = 5
# The newest cases of each matter that training reads: it bounds the time and memory of a
# retrain however long the history grows, and follows how people word things lately.
# Measured on the demo street, training on at most 200 per matter is as accurate on the
# real mix of matters as training on all of them (docs/suggester.md).
MAX_PER_MATTER = 200
TEST_SIZE = 0.2
SEED = 2026
# Char 1–2-grams measured as accurate as 1–3-grams on the demo street (names masked) at
# two thirds of the training time (bench/bench_suggest.py). With C=10 the mean confidence
# of the first suggestion is close to its held-out accuracy (same bench), so the
# confidences shown can be taken roughly at their word.
NGRAM_RANGE = (1, 2)
C = 10.0
# saga reaches the held-out accuracy of a fully converged fit within a few passes over
# the data (in trials on the demo street: 5 passes as good as lbfgs run to convergence, at
# 1/20 of its time); the demo build trains it, so its time counts.
MAX_ITER = 5
# Fewer letters or characters than this say nothing about the matter.
MIN_TEXT_CHARS = 4
# Below this a matter is not a suggestion, whatever its rank.
MIN_CONFIDENCE = 0.01
# Ranked matters looked up at once, so that retired matters can be skipped in one query.
CANDIDATES = 20
FORMAT = 1

NOT_ENOUGH_HISTORY = "not_enough_history"
UNREADABLE = "unreadable"
TOO_SHORT = "too_short"
NO_MATCH = "no_match"


@dataclass(frozen=True)
class Report:
    """What a training run measured and saved (also the model's metadata). The accuracies
    are the shares of all closed cases whose matter the model, trained without them, put
    first (top 1) or among its first three (top 3): held-out cases weighed by how common
    their matter is in the whole history, cases of matters it does not know counted wrong."""

    trained_at: datetime
    n_closed: int  # closed cases in the history
    n_cases: int  # of them, the ones trained on (rare matters left out, newest per matter)
    n_matters: int
    n_test: int
    accuracy_top1: float
    accuracy_top3: float
    stratified: bool
    codes: list[str]
    params: dict = field(default_factory=dict)
    path: Path | None = None

    def as_meta(self) -> dict:
        return {
            "trained_at": self.trained_at,
            "n_closed": self.n_closed,
            "n_cases": self.n_cases,
            "n_matters": self.n_matters,
            "n_test": self.n_test,
            "accuracy_top1": self.accuracy_top1,
            "accuracy_top3": self.accuracy_top3,
            "stratified": self.stratified,
            "codes": self.codes,
            "params": self.params,
        }


@dataclass(frozen=True)
class Suggestion:
    matter: Matter
    confidence: float


@dataclass(frozen=True)
class Suggestions:
    """The answer to one text: `ready` when a model is loaded; `reason` (a code) and
    `message` say why `items` is empty; `model` is the loaded model's metadata."""

    ready: bool
    reason: str | None
    message: str
    items: list[Suggestion]
    model: Report | None


# --- training ----------------------------------------------------------------------------


def suggester_path() -> Path:
    return Path(settings.LINLI_SUGGESTER_PATH)


def _history(max_per_matter: int) -> tuple[Counter, list[tuple[str, str]]]:
    """How many closed cases each matter has, and the newest `max_per_matter` of each as
    (description, matter code). Rejected and merged cases never reach a closed status: a
    rejection is not a matter's case, and a merged report is its target's."""
    closed = Case.objects.filter(status__in=sorted(CLOSED_STATUSES), merged_into__isnull=True)
    counts = Counter(
        dict(
            closed.order_by()
            .values("matter__code")
            .annotate(n=Count("id"))
            .values_list("matter__code", "n")
        )
    )
    newest = Window(
        RowNumber(), partition_by=[F("matter_id")], order_by=[F("closed_at").desc(), F("id").desc()]
    )
    rows = (
        closed.annotate(newest=newest)
        .filter(newest__lte=max_per_matter)
        .order_by("matter__code", "newest")
        .values_list("description", "matter__code")
    )
    return counts, list(rows)


def _pipeline(seed: int, ngram_range: tuple[int, int] = NGRAM_RANGE):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, min_df=2),
        LogisticRegression(C=C, solver="saga", max_iter=MAX_ITER, tol=1e-3, random_state=seed),
    )


def _fit(pipeline, texts: list[str], labels: list[str]):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    # A few saga passes are enough (see MAX_ITER); the warning that it stopped early is not
    # news.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipeline.fit(texts, labels)


def traffic_weights(truth: list[str], counts: Counter) -> list[float]:
    """A weight per held-out case, so that a sum over them stands for the whole history:
    each matter's held-out cases share its part of all closed cases. The capped training
    sample (MAX_PER_MATTER) under-represents common matters; this puts them back."""
    total = sum(counts.values())
    held_out = Counter(truth)
    return [counts[code] / held_out[code] / total for code in truth]


def top_k_accuracy(probabilities, classes, truth: list[str], k: int, weights=None) -> float:
    """The (weighted) share of `truth` found among the `k` most probable classes of each
    row; plain shares without `weights`."""
    import numpy as np

    if not truth:
        return 0.0
    top = np.argsort(-probabilities, axis=1)[:, :k]
    index = {code: i for i, code in enumerate(classes)}
    wanted = np.array([index.get(code, -1) for code in truth])
    hits = (top == wanted[:, None]).any(axis=1)
    if weights is None:
        return float(np.mean(hits))
    return float(np.dot(hits, np.asarray(weights, dtype=float)))


def _split(texts, labels, test_size: float, seed: int):
    """A held-out split stratified by matter; unstratified when some matter has too few
    cases for both sides."""
    from sklearn.model_selection import train_test_split

    try:
        return (
            *train_test_split(
                texts, labels, test_size=test_size, random_state=seed, stratify=labels
            ),
            True,
        )
    except ValueError:
        return (*train_test_split(texts, labels, test_size=test_size, random_state=seed), False)


def _save(payload: dict, path: Path) -> None:
    """Write next to the target and rename over it: a process loading the model meanwhile
    reads the old file or the new one, never half of one."""
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            joblib.dump(payload, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def suggester_train(
    *,
    min_cases: int = MIN_CASES,
    min_per_matter: int = MIN_PER_MATTER,
    max_per_matter: int = MAX_PER_MATTER,
    test_size: float = TEST_SIZE,
    seed: int = SEED,
    path: Path | None = None,
) -> Report:
    """Train on the closed cases: measure top-1 and top-3 accuracy on a held-out share
    (`test_size`), refit on all of them and save the model with its figures (to `path`,
    default settings.LINLI_SUGGESTER_PATH). Refuses with a DomainError, writing nothing,
    when there are fewer than `min_cases` closed cases or fewer than two matters with
    `min_per_matter` of them."""
    if not 0 < test_size < 1:
        message = _("The held-out share must be between 0 and 1.")
        raise DomainError("invalid", message, {"test_size": [message]})
    counts, rows = _history(max_per_matter)
    n_closed = sum(counts.values())
    per_matter = Counter(code for _text, code in rows)
    known = {code for code, n in per_matter.items() if n >= max(min_per_matter, 2)}
    if n_closed < min_cases or len(known) < 2:
        raise DomainError(
            NOT_ENOUGH_HISTORY,
            _(
                "Not enough history to learn from: %(cases)d closed cases (at least %(min)d "
                "needed) and %(matters)d matters with %(per)d or more of them (at least 2 "
                "needed). The suggester stays off until there is more."
            )
            % {
                "cases": n_closed,
                "min": min_cases,
                "matters": len(known),
                "per": max(min_per_matter, 2),
            },
        )
    texts = [text for text, code in rows if code in known]
    labels = [code for _text, code in rows if code in known]
    train_x, test_x, train_y, test_y, stratified = _split(texts, labels, test_size, seed)
    held_out = _fit(_pipeline(seed), train_x, train_y)
    probabilities = held_out.predict_proba(test_x)
    classes = list(held_out.classes_)
    weights = traffic_weights(test_y, counts)
    model = _fit(_pipeline(seed), texts, labels)
    report = Report(
        trained_at=timezone.now(),
        n_closed=n_closed,
        n_cases=len(texts),
        n_matters=len(known),
        n_test=len(test_y),
        accuracy_top1=top_k_accuracy(probabilities, classes, test_y, 1, weights),
        accuracy_top3=top_k_accuracy(probabilities, classes, test_y, 3, weights),
        stratified=stratified,
        codes=[str(code) for code in model.classes_],
        params={
            "min_cases": min_cases,
            "min_per_matter": min_per_matter,
            "max_per_matter": max_per_matter,
            "test_size": test_size,
            "seed": seed,
            "ngram_range": list(NGRAM_RANGE),
            "C": C,
        },
        path=path or suggester_path(),
    )
    _save({"format": FORMAT, "pipeline": model, "meta": report.as_meta()}, report.path)
    logger.info(
        "matter suggester trained on %d cases of %d matters: top-1 %.3f, top-3 %.3f",
        report.n_cases,
        report.n_matters,
        report.accuracy_top1,
        report.accuracy_top3,
    )
    return report


# --- suggesting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    pipeline: Any
    info: Report


_lock = threading.Lock()
# (path, inode, mtime, size) of the file last read, and what it held (None: unreadable).
_cache: dict[str, Any] = {"key": None, "model": None}


def _read(path: Path) -> _Loaded | None:
    import joblib

    try:
        # The file is the centre's own, written by train_matter_suggester into its var
        # directory (docs/suggester.md: keep it writable by the service account only).
        payload = joblib.load(path)
        meta = payload["meta"]
        if payload.get("format") != FORMAT:
            raise ValueError(f"format {payload.get('format')!r}")
        return _Loaded(payload["pipeline"], Report(**meta, path=path))
    except Exception:
        logger.exception("matter suggester: cannot read %s; retrain it", path)
        return None


def suggester_loaded() -> tuple[bool, _Loaded | None]:
    """(whether a model file exists, the model when it could be read). Read once per
    process and again when the file is replaced or changes."""
    path = suggester_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False, None
    # A retrain renames a new file over the old one: a new inode, whatever the clock says.
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _cache["key"] == key:
        return True, _cache["model"]
    with _lock:
        if _cache["key"] != key:
            _cache["model"] = _read(path)
            _cache["key"] = key
        return True, _cache["model"]


def suggester_info() -> Report | None:
    """The figures of the model in use, or None when there is none (or it is unreadable)."""
    _exists, loaded = suggester_loaded()
    return loaded.info if loaded is not None else None


def _meaningful(text: str) -> int:
    return sum(1 for c in text if c.isalnum())


def matter_suggest(text: str, k: int = 3, *, public_only: bool = False) -> Suggestions:
    """Up to `k` active matters the text is most likely about, most likely first, each
    with the model's probability (0–1). `public_only`: only matters offered to residents.
    Without a model, or for empty or very short text, no suggestions and the reason."""
    exists, loaded = suggester_loaded()
    if loaded is None:
        if exists:
            message = _("The matter suggester cannot read its model; it needs retraining.")
            return Suggestions(False, UNREADABLE, message, [], None)
        message = _("Not enough history yet: the matter suggester has not been trained.")
        return Suggestions(False, NOT_ENOUGH_HISTORY, message, [], None)
    text = (text or "").strip()[:DESCRIPTION_MAX]
    if _meaningful(text) < MIN_TEXT_CHARS:
        message = _("Write a few more words to get suggestions.")
        return Suggestions(True, TOO_SHORT, message, [], loaded.info)
    probabilities = loaded.pipeline.predict_proba([text])[0]
    ranked = sorted(
        zip(loaded.pipeline.classes_, probabilities, strict=True), key=lambda pair: -pair[1]
    )
    ranked = [(str(code), float(p)) for code, p in ranked[:CANDIDATES] if p >= MIN_CONFIDENCE]
    matters = Matter.objects.filter(code__in=[code for code, _p in ranked], is_active=True)
    if public_only:
        matters = matters.filter(public=True)
    by_code = {matter.code: matter for matter in matters}
    items = [Suggestion(by_code[code], round(p, 3)) for code, p in ranked if code in by_code][:k]
    if not items:
        message = _("No matter stands out for these words.")
        return Suggestions(True, NO_MATCH, message, [], loaded.info)
    return Suggestions(True, None, "", items, loaded.info)


# --- the demo street -----------------------------------------------------------------------


@register_demo_step
def demo_suggester(ctx: DemoContext) -> None:
    """Train on the demo's year of cases, so that the suggester works on the first start.
    Only at the full size: the small street is the tests', which must not write to var/."""
    if ctx.layout.size != "full":
        return
    try:
        report = suggester_train(seed=ctx.layout.seed)
    except DomainError as exc:
        logger.warning("demo: matter suggester not trained: %s", exc.message)
        return
    ctx.summary["suggester cases"] = report.n_cases
