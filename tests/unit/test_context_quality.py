"""The quality measurement in small: on the test workspace, the engine ranks the right files
higher than BM25 over whole files does (``bench/context_quality.py`` has the full measurement)."""

from __future__ import annotations

from pathlib import Path

from bench.context_quality import Case, evaluate
from tests.context_repo import write_repo

#: (current file, selection, question, the files the answer needs)
CASES = [
    ("app/billing.py", "return Money(round_cents(amount))", "", ["app/money.py"]),
    ("app/reports.py", "page, _ = paginate(invoices)", "explain this", ["app/billing.py"]),
    ("engine/src/lib.rs", "parse_expression(source).value()", "", ["engine/src/parser.rs"]),
    ("java/src/com/shop/Cart.java", "return Prices.applyDiscount(cents, 10);", "",
     ["java/src/com/shop/util/Prices.java"]),
    ("web/src/components/InvoiceList.tsx", "label(row)", "why is the label empty",
     ["web/src/api.ts"]),
    ("server/main.go", 'fmt.Println(auth.CheckToken("abc"))', "", ["server/auth/token.go"]),
    ("native/table.cpp", "return fnv1a(key, n) % 64;", "",
     ["native/hash.c", "native/hash.h"]),
    ("app/money.py", "", "add a currency to Money and keep the callers working",
     ["app/billing.py"]),
    ("web/src/format.ts", "", "support other locales in every caller",
     ["web/src/api.ts", "web/src/legacy.js"]),
    (None, "", "how is an amount rounded to whole cents", ["app/money.py"]),
    (None, "", "where is a bearer token checked", ["server/auth/token.go"]),
    (None, "", "how are invoices stored", ["app/storage.py"]),
]


def test_the_engine_beats_bm25_on_the_built_in_cases(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "shop", use_git=True)
    cases = [Case("smoke", "shop", root, question, targets, current, selection)
             for current, selection, question, targets in CASES]
    results = evaluate(cases, cache=tmp_path / "cache")
    engine = results[("engine", "all")]
    assert len(engine.recall) == len(CASES)
    for baseline in ("bm25-plain", "bm25-split"):
        other = results[(baseline, "all")]
        assert engine.mrr >= other.mrr + 0.15, (baseline, engine.mrr, other.mrr)
        assert engine.recall_at_5 > other.recall_at_5, baseline
    assert engine.recall_at_5 >= 0.9 and engine.mrr >= 0.85
