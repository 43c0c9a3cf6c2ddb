"""The matter suggester (linli.cases.suggest) on the demo street's year of cases, built in a
database of its own (the places, the catalogue and the cases; not the register, which the
suggester never reads). See docs/suggester.md.

Accuracy: held-out top-1 and top-3, split, trained and weighed exactly as
`suggester_train` does (the newest 200 closed cases per matter, 20 % held out stratified by
matter, each held-out case weighed by how common its matter is in the whole history),
against two references on the same held-out cases: the majority class (always the three
most common matters) and a keyword match (the matters whose name or one of whose keywords
occurs in the text, most matches first, then the most common).

The demo's descriptions come from per-matter templates, and most of them name the matter,
so the demo figure says that the pipeline works, not how often it will be right on real
reports. A second measurement removes every matter's name from the texts (training and
held-out alike), and on those texts the choices of suggest.py (char 1–2-grams, the newest
200 per matter) are compared with char 1–3-grams and with every closed case.

Speed: one `matter_suggest` call (the model in memory, one query for the matters still
active) against a bare TF-IDF transform of the same text by the same vectorizer.
"""

import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import best_of, in_fresh_database, report

NEEDS_DEMO_DATABASE = False
SPEED_TEXTS = 200


def _build_demo_cases() -> None:
    """The full demo street with its catalogue and year of cases only."""
    from linli.cases.demo import demo_catalogue
    from linli.cases.demo_cases import demo_cases
    from linli.demo import services

    steps = list(services.DEMO_STEPS)
    services.DEMO_STEPS[:] = [demo_catalogue, demo_cases]
    try:
        services.demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
    finally:
        services.DEMO_STEPS[:] = steps


def _accuracy(predictions: list[list[str]], truth: list[str], k: int, weights) -> float:
    return sum(w for p, t, w in zip(predictions, truth, weights, strict=True) if t in p[:k])


def keyword_predictions(texts, terms: dict[str, list[str]], counts: Counter) -> list[list[str]]:
    """For each text, three matters: those with the most of their terms (name, keywords)
    in it, then the most common ones."""
    common = [code for code, _n in counts.most_common()]
    rank = {code: i for i, code in enumerate(common)}
    out = []
    for text in texts:
        hits = {code: sum(term in text for term in words) for code, words in terms.items()}
        found = sorted(
            (code for code, n in hits.items() if n), key=lambda c: (-hits[c], rank.get(c, 1e9))
        )
        out.append((found + [c for c in common if c not in found])[:3])
    return out


def _known(rows) -> tuple[list[str], list[str]]:
    """The rows of the matters training keeps (MIN_PER_MATTER), as texts and labels."""
    from linli.cases import suggest

    kept = Counter(code for _t, code in rows)
    rows = [(t, c) for t, c in rows if kept[c] >= suggest.MIN_PER_MATTER]
    return [t for t, _c in rows], [c for _t, c in rows]


def _measure(texts, labels, counts: Counter, terms=None, ngram_range=None) -> dict:
    """Held-out top-1/top-3 of the suggester's pipeline on these rows, weighed as
    suggester_train weighs them; with `terms`, the two baselines on the same cases."""
    from linli.cases import suggest

    seed = suggest.SEED
    train_x, test_x, train_y, test_y, _stratified = suggest._split(
        texts, labels, suggest.TEST_SIZE, seed
    )
    pipeline = suggest._pipeline(seed, ngram_range or suggest.NGRAM_RANGE)
    started = time.perf_counter()
    model = suggest._fit(pipeline, train_x, train_y)
    fitted = time.perf_counter() - started
    weights = suggest.traffic_weights(test_y, counts)
    probabilities = model.predict_proba(test_x)
    classes = list(model.classes_)
    out = {
        "cases": len(texts),
        "held_out": len(test_y),
        "fit_s": fitted,
        "top1": suggest.top_k_accuracy(probabilities, classes, test_y, 1, weights),
        "top3": suggest.top_k_accuracy(probabilities, classes, test_y, 3, weights),
        # The mean confidence of the first suggestion, weighed the same way: close to the
        # top-1 accuracy when the confidences can be taken at their word.
        "confidence": float(probabilities.max(axis=1) @ weights),
    }
    if terms is not None:
        majority = [[code for code, _n in counts.most_common(3)]] * len(test_y)
        keywords = keyword_predictions(test_x, terms, counts)
        for k in (1, 3):
            out[f"majority{k}"] = _accuracy(majority, test_y, k, weights)
            out[f"keyword{k}"] = _accuracy(keywords, test_y, k, weights)
    return out


def _print_accuracy(label: str, m: dict) -> None:
    print(
        f"   {label}: {m['cases']:,} cases trained on, {m['held_out']:,} held out; "
        f"held-out fit {m['fit_s']:.1f} s; mean confidence of the first suggestion "
        f"{m['confidence']:.1%}",
        flush=True,
    )
    for reference, name in (("majority", "majority class"), ("keyword", "keyword match")):
        for k in (1, 3):
            report(
                f"suggester top-{k}, {label}",
                m[f"top{k}"] * 100,
                "%",
                name,
                m[f"{reference}{k}"] * 100,
            )


def _run() -> None:
    from django.test import override_settings

    from linli.cases import suggest
    from linli.cases.models import Matter

    _build_demo_cases()
    terms = {
        m.code: [m.name, *m.keywords.split()]
        for m in Matter.objects.only("code", "name", "keywords")
    }
    names = {code: words[0] for code, words in terms.items()}
    masked_terms = {code: words[1:] for code, words in terms.items()}
    with (
        tempfile.TemporaryDirectory() as tmp,
        override_settings(LINLI_SUGGESTER_PATH=Path(tmp) / "matter_suggester.joblib"),
    ):
        started = time.perf_counter()
        trained = suggest.suggester_train()
        print(
            f"   suggester_train (held-out fit, measure, refit on all, save): "
            f"{time.perf_counter() - started:.1f} s; {trained.n_cases:,} of "
            f"{trained.n_closed:,} closed cases, {trained.n_matters} matters; "
            f"top-1 {trained.accuracy_top1:.2%}, top-3 {trained.accuracy_top3:.2%}",
            flush=True,
        )
        counts, rows = suggest._history(suggest.MAX_PER_MATTER)
        texts, labels = _known(rows)
        _print_accuracy("demo street", _measure(texts, labels, counts, terms))
        masked = [text.replace(names[code], "") for text, code in zip(texts, labels, strict=True)]
        chosen = _measure(masked, labels, counts, masked_terms)
        _print_accuracy("demo street, matter names masked", chosen)

        # The choices in linli.cases.suggest, on the masked texts (the demo's unmasked ones
        # are right every time whatever the choice).
        trigrams = _measure(masked, labels, counts, ngram_range=(1, 3))
        _all, every_row = suggest._history(10**9)
        every_text, every_label = _known(every_row)
        every_masked = [
            text.replace(names[code], "")
            for text, code in zip(every_text, every_label, strict=True)
        ]
        uncapped = _measure(every_masked, every_label, counts)
        for label, other in (
            ("char 1-3-grams", trigrams),
            (f"all closed cases, not the newest {suggest.MAX_PER_MATTER} per matter", uncapped),
        ):
            report(
                f"top-1, names masked, {label}",
                other["top1"] * 100,
                "%",
                "as shipped",
                chosen["top1"] * 100,
                note=f"held-out fit {other['fit_s']:.1f} s vs {chosen['fit_s']:.1f} s",
            )

        # Speed: the whole call against the vectorizer alone, on the same texts.
        sample = texts[:: max(1, len(texts) // SPEED_TEXTS)][:SPEED_TEXTS]
        suggest.matter_suggest(sample[0])  # load the model once, as a web process would
        _exists, loaded = suggest.suggester_loaded()
        vectorizer = loaded.pipeline[0]

        def suggest_all():
            for text in sample:
                suggest.matter_suggest(text)

        def vectorize_all():
            for text in sample:
                vectorizer.transform([text])

        report(
            "matter_suggest, one text (model loaded, one query)",
            len(sample) / best_of(suggest_all),
            "texts/s",
            "bare TF-IDF transform of the text",
            len(sample) / best_of(vectorize_all),
        )


def main() -> None:
    in_fresh_database(_run)
