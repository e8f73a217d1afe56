"""Indexing at scale: a large build reads words and sketches definitions in worker processes,
parses on demand what a request carries, and ranks as a file-by-file build did; the cache holds
across restarts and a real `git checkout`, and a change its stat cannot show is caught by the
content digest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.context import ContextEngine, builder, records, terms
from ren_lsp.context.files import list_files
from ren_lsp.context.index import Index
from ren_lsp.context.rank import Request, rank
from ren_lsp.context.symbols import extract
from tests.context_repo import FILES, READABLE, git, write_repo

QUESTIONS = ("how is an amount rounded to whole cents", "invoice totals", "paginate with a cursor",
             "where is the database url read", "format a price", "hash a string")
CURRENT = ("app/billing.py", "app/money.py", "web/src/format.ts", "native/hash.h")


def reference_index(root: Path) -> Index:
    """The index as it was built before passes and workers: ``analyse`` on each file."""
    index = Index([root])
    for rel in list_files(root).files:
        text = records.read_text(root / rel)
        if text is not None:
            stat = (root / rel).stat()
            index._put(records.analyse(rel, (root / rel).as_posix(), 0, rel, text,
                                       stat.st_size, stat.st_mtime_ns, ()))
    return index


def rankings(index: Index) -> list[object]:
    found: list[object] = []
    for question in QUESTIONS:
        found.append(rank(index, Request(question=question)))
    for current in CURRENT:
        found.append(rank(index, Request(question="explain this", current=current,
                                         selection="round_cents(amount)")))
    return found


def fields(index: Index) -> dict[str, tuple[object, ...]]:
    return {key: (r.language, r.definitions, r.imports, frozenset(r.references), r.terms,
                  list(r.terms), r.names, r.length, r.path_terms, r.notes, r.kind)
            for key, r in index.records.items()}


def words(index: Index) -> dict[str, tuple[object, ...]]:
    """What a sketch and a parse share: everything but the definitions' details."""
    return {key: (r.language, frozenset(r.references), r.terms, list(r.terms), r.length,
                  r.path_terms, r.notes, r.kind) for key, r in index.records.items()}


def tops(index: Index) -> list[list[str]]:
    return [[r.key for r in ranked[:5]] for ranked in rankings(index)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop", use_git=True)


def test_a_large_build_sketches_definitions_and_ranks_as_a_file_by_file_build(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "POOL_FILES", 1)  # this small workspace, as a large one is
    monkeypatch.setattr(builder, "SKETCH_FILES", 1)
    reference = reference_index(root)
    engine = ContextEngine([root], cache_dir=root.parent / "cache", workers=2)
    engine.build_sync()
    index = engine.index
    assert engine.stats.workers == 2 and engine.stats.parsed == len(READABLE) + 1
    assert index.with_symbols < len(READABLE)  # sketched, not parsed
    assert words(index) == words(reference)
    assert index.defined_in.keys() == reference.defined_in.keys()
    assert tops(index) == tops(reference)
    money = index.records["app/money.py"]
    assert not money.symbols and money.definitions[0].line == money.definitions[0].end_line
    assert engine.query(question="how is an amount rounded to whole cents").files[
        0].path == "app/money.py"
    money = index.records["app/money.py"]  # a candidate of that request: parsed now
    assert money.symbols and money.definitions == reference.records["app/money.py"].definitions
    assert engine.stats.symbols > 0
    index.ensure_symbols(list(index.records))
    assert fields(index) == fields(reference) and rankings(index) == rankings(reference)
    index.save_cache()
    warm = ContextEngine([root], cache_dir=root.parent / "cache", workers=2)
    warm.build_sync()  # a restart: everything from the cache, references read on demand
    assert warm.stats.parsed == 0 and warm.stats.from_cache == len(READABLE) + 1
    assert fields(warm.index) == fields(reference)
    assert rankings(warm.index) == rankings(reference)


def test_references_are_read_when_asked_from_the_redacted_text(root: Path) -> None:
    engine = ContextEngine([root], cache_dir=root.parent / "cache")
    engine.build_sync()
    record = engine.index.records["app/billing.py"]
    assert isinstance(record.references, records.LazyReferences)
    expected = extract("app/billing.py", FILES["app/billing.py"]).references
    assert "round_cents" in record.references and set(record.references) == expected


def test_a_query_midway_through_a_large_build_says_so_and_parses_its_candidates(
        root: Path) -> None:
    index = Index([root])
    listed = list_files(root).files
    for rel in listed[: len(listed) // 2]:  # half the files, as midway through a large build
        [result] = builder.build.lexical_pass(root.as_posix(), (), [rel])
        index.apply(0, [result])
    engine = ContextEngine([root], use_cache=False)
    engine.index = index
    index.building, index.total = True, len(listed)
    before = index.with_symbols
    result = engine.query(question="where is the database url read")
    assert result.partial and result.indexed == len(listed) // 2 < result.total
    assert result.coverage_note() == f"indexed {result.indexed} of {result.total} files so far"
    assert index.with_symbols > before  # the candidates, parsed on demand


def test_a_git_checkout_of_another_branch_is_never_served_stale(root: Path) -> None:
    cache = root.parent / "cache"
    ContextEngine([root], cache_dir=cache).build_sync()
    git(root, "checkout", "-q", "-b", "euros")
    money = FILES["app/money.py"].replace("round_cents", "round_euros")  # the same size
    (root / "app" / "money.py").write_text(money, encoding="utf-8")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am",
        "euros")
    git(root, "checkout", "-q", "main")
    ContextEngine([root], cache_dir=cache).build_sync()  # the cache now holds main's money.py
    git(root, "checkout", "-q", "euros")
    restarted = ContextEngine([root], cache_dir=cache)
    restarted.build_sync()
    assert set(restarted.index.definers("round_euros")) == {"app/money.py"}
    assert "round_cents" not in restarted.index.defined_in
    assert restarted.stats.parsed == 1  # only the file the checkout changed


def test_a_change_the_stat_cannot_show_is_caught_by_the_digest(root: Path) -> None:
    cache = root.parent / "cache"
    ContextEngine([root], cache_dir=cache).build_sync()
    path = root / "app" / "money.py"
    before = path.stat()
    # Rewritten within the same clock tick, same size: size and mtime say nothing changed.
    path.write_text(FILES["app/money.py"].replace("round_cents", "round_dimes"),
                    encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    restarted = ContextEngine([root], cache_dir=cache)
    restarted.build_sync()
    assert "round_dimes" in restarted.index.defined_in
    assert restarted.stats.parsed == 1 and restarted.stats.hashed > 0


def test_a_file_long_unchanged_is_trusted_by_its_stat(root: Path) -> None:
    cache = root.parent / "cache"
    old = 10**18  # files last modified long before they were read: their stat is sure
    for rel in READABLE:
        os.utime(root / rel, ns=(old, old))
    ContextEngine([root], cache_dir=cache).build_sync()
    restarted = ContextEngine([root], cache_dir=cache)
    restarted.build_sync()
    assert restarted.stats.parsed == 0 and restarted.stats.hashed == 1  # the binary file only
    assert restarted.stats.from_cache == len(READABLE) + 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZbYcXÉé_ 9.\n\t#-AAbcHTTPResponse✓"), max_size=200))
def test_the_fast_word_count_is_the_word_count(text: str) -> None:
    fast, plain = records.count_terms(text), terms.count_terms(text)
    assert list(fast.items()) == list(plain.items())


def test_a_result_read_before_a_save_never_replaces_the_saved_text(root: Path) -> None:
    """A build's batch can wait behind others while the user saves a file: the older read,
    taken in after the save was indexed, must not put the old text back."""
    index = Index([root])
    rel = "app/billing.py"
    [old] = builder.build.full_pass(root.as_posix(), (), [rel])  # read by a worker, then…
    (root / rel).write_text(FILES[rel] + "\ndef refund_everything():\n    return 0\n")
    assert index.update(root / rel)  # …the user saves, and the save is indexed
    assert "refund_everything" in index.defined_in
    index.apply(0, [old])  # the worker's older batch arrives
    assert "refund_everything" in index.defined_in
    assert "refund" in index.records[rel].terms


def tables(index: Index) -> tuple[object, ...]:
    return (dict(index.df_terms), dict(index.df_names), dict(index.df_path),
            dict(index.df_notes), index.total_length, index.total_names, index.total_path,
            index.total_notes, index.with_symbols,
            {name: set(index.definers(name)) for name in index.defined_in})


def test_a_restart_takes_the_saved_tables_less_what_stale_entries_counted(root: Path) -> None:
    cache = root.parent / "cache"
    ContextEngine([root], cache_dir=cache).build_sync()
    fresh = ContextEngine([root], use_cache=False)
    fresh.build_sync()
    warm = ContextEngine([root], cache_dir=cache)
    warm.build_sync()  # every file unchanged: the tables as saved
    assert warm.stats.parsed == 0 and warm.stats.saved_tables
    assert tables(warm.index) == tables(fresh.index)
    path = root / "app" / "money.py"
    path.write_text(FILES["app/money.py"] + "\ndef round_dimes(x):\n    return x\n")
    gone = sorted(rel for rel in READABLE if rel.endswith(".py") and rel != "app/money.py")[0]
    (root / gone).unlink()
    (root / "app" / "added.py").write_text("def freshly_added_helper():\n    return 1\n")
    changed = ContextEngine([root], cache_dir=cache)
    # A file changed, one went, one came: the saved tables less what the first two counted,
    # then the new texts' words, equal to counting every file afresh.
    changed.build_sync()
    fresh = ContextEngine([root], use_cache=False)
    fresh.build_sync()
    assert changed.stats.parsed == 2 and changed.stats.saved_tables
    assert tables(changed.index) == tables(fresh.index)
    assert set(changed.index.definers("round_dimes")) == {"app/money.py"}
    assert gone not in changed.index.records


def test_files_parsed_for_a_command_line_request_are_cached_for_the_next(
        root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ren_lsp.context.cli import context_for

    monkeypatch.setattr(builder, "SKETCH_FILES", 1)  # as a large workspace is built
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = context_for(root, "how is an amount rounded to whole cents")
    assert result.files[0].path == "app/money.py"
    again = ContextEngine([root])  # the next command: its build reads the cache only
    again.build_sync()
    assert again.stats.parsed == 0
    assert again.index.records["app/money.py"].symbols  # parsed by the first, not sketched
    assert not all(record.symbols for record in again.index.records.values())


def test_a_buffer_indexed_during_a_restart_is_not_replaced_by_the_cache(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor opens a file with unsaved changes while a restart reads the cache: the
    cache's older text of it must not replace the buffer's."""
    cache = root.parent / "cache"
    ContextEngine([root], cache_dir=cache).build_sync()
    engine = ContextEngine([root], cache_dir=cache)
    buffer = FILES["app/money.py"] + "\ndef round_unsaved(x):\n    return x\n"
    take = engine.index._take_with_tables
    opened: list[bool] = []

    def open_then_take(*args: Any) -> bool:
        # The plan has read every file's entry; before they are taken in, the editor opens one.
        opened.append(engine.index.update(root / "app" / "money.py", buffer))
        return take(*args)

    monkeypatch.setattr(engine.index, "_take_with_tables", open_then_take)
    engine.build_sync()
    assert opened == [True]
    money = engine.index.records["app/money.py"]
    assert money.from_buffer and set(engine.index.definers("round_unsaved")) == {"app/money.py"}
