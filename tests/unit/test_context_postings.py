"""The postings a build's batches and a restart score packed bags through (``postings.py``):
the same scores as the files' words counted afresh, after each change a session makes, and a
cache file whose postings are exactly its entries' bags."""

from __future__ import annotations

import marshal
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.context import ContextEngine, builder, lexical, postings
from ren_lsp.context import index as index_module
from ren_lsp.context.cache import DiskCache
from ren_lsp.context.index import Index
from ren_lsp.context.terms import query_terms
from tests.context_repo import write_repo
from tests.unit.test_context_scale import reference_index

QUESTIONS = ("how is an amount rounded to whole cents", "invoice totals", "paginate with a cursor",
             "where is the database url read", "format a price", "hash a string",
             "round the dimes of a freshly added helper", "money cents")


def scores(index: Index) -> list[object]:
    """The packed fields' scores and idf of each question, and their tables."""
    found: list[object] = [dict(index.df_terms), dict(index.df_notes), index.total_length,
                           index.total_notes]
    for question in QUESTIONS:
        matched = lexical.match(index, query_terms(question))
        found.append((matched.fields["body"], matched.fields["notes"], matched.idf))
    return found


def packed_share(index: Index) -> float:
    bags = [record.terms for record in index.records.values()]
    return sum(isinstance(bag, postings.Packed) for bag in bags) / len(bags)


def bags_of(field: postings.Field) -> dict[int, dict[str, int]]:
    """doc -> bag, read back from a field's postings."""
    found: dict[int, dict[str, int]] = {}
    for term, data in postings.pieces(field).items():
        held = array("q")
        held.frombytes(data)
        docs = [posting >> 32 for posting in held]
        assert docs == sorted(docs) and len(set(docs)) == len(docs), term
        for posting in held:
            found.setdefault(posting >> 32, {})[term] = posting & postings.COUNT_MASK
    return found


def assert_cache_consistent(cache: Path, root: Path) -> None:
    """Every entry's packed bags are what the postings hold for its doc, and nothing else."""
    entries, _, segment = DiskCache(cache).load_with_tables(root.resolve())
    assert entries and segment is not None
    for field, at in (("terms", 1), ("notes", 4)):
        held = bags_of(segment.fields[field])
        expected = {entry[4][6]: marshal.loads(entry[4][at])
                    for entry in entries.values() if entry[4] is not None}
        assert held == {doc: bag for doc, bag in expected.items() if bag}


@pytest.mark.parametrize("workers", [0, 1])
def test_packed_bags_score_as_the_words_counted_afresh_through_a_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    root = write_repo(tmp_path / "shop", use_git=False)
    cache = tmp_path / "cache"
    monkeypatch.setattr(index_module, "BATCH", 3)  # many batches, so many segments
    monkeypatch.setattr(builder, "POOL_BATCH", 3)
    monkeypatch.setattr(builder, "POOL_FILES", 1)

    def engine() -> ContextEngine:
        made = ContextEngine([root], cache_dir=cache)
        made.index.workers = workers
        made.build_sync()
        return made

    def check(index: Index) -> None:
        assert scores(index) == scores(reference_index(root))

    cold = engine()
    assert packed_share(cold.index) == 1.0  # a build's batches: every bag packed
    check(cold.index)
    assert_cache_consistent(cache, root)
    warm = engine()
    assert warm.stats.parsed == 0 and packed_share(warm.index) == 1.0
    check(warm.index)
    # A session's changes: a file saved, one deleted, one added, one open with unsaved text.
    money = root / "app" / "money.py"
    money.write_text(money.read_text() + "\ndef round_dimes(x):\n    return x\n")
    (root / "app" / "billing.py").unlink()
    (root / "app" / "added.py").write_text("def freshly_added_helper():\n    return 'cents'\n")
    warm.update(money)
    warm.update(root / "app" / "added.py")
    warm.remove(root / "app" / "billing.py")
    check(warm.index)
    assert 0 < packed_share(warm.index) < 1.0  # the changed files' bags are dicts
    warm.index.save_cache()
    assert_cache_consistent(cache, root)
    again = engine()
    assert again.stats.parsed == 0
    check(again.index)
    # A restart that finds the change itself, then saves: the stale docs leave the postings.
    money.write_text(money.read_text() + "\ndef round_nickels(x):\n    return x\n")
    changed = engine()
    assert changed.stats.parsed == 1
    check(changed.index)
    assert_cache_consistent(cache, root)
    check(engine().index)


bag = st.dictionaries(st.sampled_from(["a", "b", "cents", "money", "round", "x", "y"]),
                      st.integers(1, 70_000), max_size=6)


@settings(max_examples=150, deadline=None)
@given(segments=st.lists(st.lists(bag, min_size=1, max_size=5), max_size=4),
       kept=st.lists(st.booleans(), min_size=20, max_size=20),
       fresh=st.lists(bag, max_size=4), gap=st.integers(0, 3))
def test_a_save_merges_segments_less_their_dead_docs_and_adds_fresh_bags(
        segments: list[list[dict[str, int]]], kept: list[bool], fresh: list[dict[str, int]],
        gap: int) -> None:
    """``merged`` of packed bags from disjoint segments (some of their docs gone) and fresh
    dict bags: the postings of exactly the bags it keeps, each under the doc it gives."""
    worded: list[tuple[Any, ...]] = []
    first = 0
    flags = iter(kept)
    for bags in segments:
        lexicals, words = postings.batch([(first + number, _lexical(b))
                                          for number, b in enumerate(bags)])
        segment = postings.segment_of(lexicals, words)
        for packed in lexicals:
            if next(flags):
                worded.append(postings.unpacked_lexical(packed, segment))
        first += len(bags) + gap
    worded += [_lexical(b) for b in fresh]
    out, merged, next_doc = postings.merged(worded, first)
    few = postings.FEW
    try:  # the other way: every segment's postings joined, none patched
        postings.FEW = -1
        assert postings.merged(worded, first) == (out, merged, next_doc)
    finally:
        postings.FEW = few
    assert len(out) == len(worded)
    docs = [lexical_[6] for lexical_ in out]
    assert len(set(docs)) == len(docs) and max(docs, default=-1) < next_doc
    for field, at in (("terms", 1), ("notes", 4)):
        expected = {lexical_[6]: marshal.loads(lexical_[at]) for lexical_ in out}
        assert bags_of(merged[field]) == {doc: b for doc, b in expected.items() if b}
        assert [dict(postings.unpack(w[at])) for w in worded] == [
            marshal.loads(lexical_[at]) for lexical_ in out]


def _lexical(terms: dict[str, int]) -> tuple[Any, ...]:
    notes = {term: count + 1 for term, count in terms.items() if term < "m"}
    return ("python", terms, sum(terms.values()), {}, notes, "source", 0)


def test_docs_are_numbered_afresh_before_they_outgrow_a_posting() -> None:
    lexicals, words = postings.batch([(5, _lexical({"cents": 2})), (6, _lexical({"x": 1}))])
    segment = postings.segment_of(lexicals, words)
    worded = [postings.unpacked_lexical(packed, segment) for packed in lexicals]
    kept, _, next_doc = postings.merged(worded, 7)
    assert [lexical_[6] for lexical_ in kept] == [5, 6] and next_doc == 7  # taken as they are
    out, merged, next_doc = postings.merged(worded, postings.MAX_DOCS - 1)
    assert [lexical_[6] for lexical_ in out] == [0, 1] and next_doc == 2
    assert bags_of(merged["terms"]) == {0: {"cents": 2}, 1: {"x": 1}}
