"""The index: every readable file's symbols, imports and terms, kept current and cached on disk.

- ``build()`` lists the roots, reuses what is still valid (in memory, else from the disk cache,
  keyed by path, size and modification time, with a content digest when those are unsure), reads
  the rest off the event loop (``builder.py``: worker processes for a large build, which
  sketches definitions and parses on demand, ``ensure_symbols``), and reports progress after
  each batch. Queries run meanwhile see what is indexed so far, and ``coverage()`` says how much
  that is.
- ``update(path, text)`` re-indexes one file (from an open buffer's text, or from disk) and
  ``remove(path)`` forgets one: editor events never cause a rescan.
- The disk cache (``cache.py``) holds only what was extracted from secret-redacted text.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ren_lsp.context import files as files_
from ren_lsp.context.build import Result, symbols_pass
from ren_lsp.context.builder import Builder, make_plan
from ren_lsp.context.cache import DiskCache, Entry, to_entry
from ren_lsp.context.graph import Graph
from ren_lsp.context.postings import (
    FIELDS,
    MAX_DOCS,
    Field,
    Packed,
    Segment,
    segment_of,
    unpacked_lexical,
)
from ren_lsp.context.quiet import collection_paused
from ren_lsp.context.records import (
    FileRecord,
    analyse,
    make_record,
    read_source,
    read_text,
)
from ren_lsp.context.tables import Tables

if TYPE_CHECKING:
    import asyncio

__all__ = ["BATCH", "FileRecord", "Index", "IndexStats", "read_text"]

log = logging.getLogger(__name__)

#: files per batch of a build in a worker thread
BATCH = 48
#: a file modified this close before it was read may change again with the same stat
RACY_NS = 2 * 10**9

Progress = Callable[[int, int], None]


@attrs.define
class IndexStats:
    """Counters the tests and the benchmark read."""

    parsed: int = 0
    from_cache: int = 0
    kept: int = 0
    listed: int = 0
    skipped: dict[str, int] = attrs.Factory(dict)
    builds: int = 0
    #: files parsed on demand (their definitions had been sketched)
    symbols: int = 0
    #: files whose bytes were hashed to tell whether they changed (their stat was unsure)
    hashed: int = 0
    #: worker processes the last build used (0: a worker thread)
    workers: int = 0
    #: a restart took the tables saved with the cache (less its stale entries' counts)
    saved_tables: bool = False



class Index(Tables):
    """The files of some roots (possibly none), and of open files outside them."""

    def __init__(self, roots: Sequence[Path], *, cache_dir: Path | None = None,
                 extra_ignores: Sequence[str] = (), extra_secrets: Sequence[str] = (),
                 secret_patterns: Sequence[str] = (), workers: int | None = None) -> None:
        self.roots = [Path(root).resolve() for root in roots]
        self.cache_dir = cache_dir
        self.cache = DiskCache(cache_dir, secret_patterns) if cache_dir is not None else None
        self.extra_ignores = tuple(extra_ignores)
        self.extra_secrets = tuple(extra_secrets)
        self.secret_patterns = tuple(secret_patterns)
        self.records: dict[str, FileRecord] = {}
        self.graph = Graph(self.records)
        self.stats = IndexStats()
        #: term -> how many files contain it, for the text and for the names
        self.df_terms: Counter[str] = Counter()
        self.df_names: Counter[str] = Counter()
        self.df_path: Counter[str] = Counter()
        self.df_notes: Counter[str] = Counter()
        #: the sum over files of each field's length (for BM25's length normalisation)
        self.total_length = 0
        self.total_names = 0
        self.total_path = 0
        self.total_notes = 0
        #: defined name -> the key of the file that defines it, or a set of them (``definers``)
        self.defined_in: dict[str, str | set[str]] = {}
        #: the text of files indexed from editor buffers, by key
        self.buffers: dict[str, str] = {}
        #: listed files found binary or minified: key -> (root, rel, size, mtime, digest)
        self.unreadable: dict[str, tuple[int, str, int, int, str]] = {}
        #: worker processes for a large build (None: one per core; 0: none, a thread)
        self.workers = workers
        #: their priority below this process's (the server keeps the editor's requests first)
        self.worker_niceness = 0
        #: while a build runs: how many files it lists, and whether it runs
        self.total = 0
        self.building = False
        #: records whose definitions come from a parse (the others' are sketched)
        self.with_symbols = 0
        #: per root: the first doc no segment of its postings numbers yet (``postings.py``)
        self._next_doc = [0] * len(self.roots)
        #: files whose stat cannot tell a change (modified just before they were read)
        self._unsure: set[str] = set()
        #: key -> when the text its record holds was read from disk: a build's result read
        #: earlier (a batch waiting behind others while the user saved) must not replace it
        self._read_at: dict[str, int] = {}
        #: records changed since the cache was written
        self._dirty = False
        #: files parsed on demand since the cache was written
        self._parsed_unsaved = False
        #: a .gitignore or .renignore changed: the next build lists the roots again
        self.stale = False
        self.lock = threading.RLock()
        self._saving = threading.Lock()
        #: bumped on every change of the records (what caches of derived tables compare)
        self.version = 0
        self._vocabularies: dict[str, tuple[int, list[str], float]] = {}
        #: what questions derive from the records, as of ``_derived_at`` (``derived``)
        self._derived: dict[Hashable, Any] = {}
        self._derived_at = -1
        self._rules: list[files_.RootRules] | None = None
        self._names = _root_names(self.roots)
        self._build_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    # -- keys and paths --------------------------------------------------------------------

    def key_for(self, root: int, rel: str) -> str:
        if root < 0:
            return rel
        return rel if len(self.roots) == 1 else f"{self._names[root]}/{rel}"

    def locate(self, path: Path | str) -> tuple[int, str]:
        """(root index, path relative to it), or (-1, absolute posix path) outside every root."""
        candidate = Path(path)
        if not candidate.is_absolute() and self.roots:
            candidate = self.roots[0] / candidate
        absolute = Path(os.path.normpath(candidate.absolute()))
        for resolved in (absolute, _resolved(absolute)):
            for index, root in enumerate(self.roots):
                rel = files_.relative_posix(resolved, root)
                if rel is not None:
                    return index, rel
        return -1, absolute.as_posix()

    def key_of(self, path: Path | str) -> str:
        """The key a path has (or would have) in the index."""
        return self.key_for(*self.locate(path))

    def rules(self) -> list[files_.RootRules]:
        if self._rules is None:
            self._rules = [files_.rules_for(root, extra_ignores=self.extra_ignores,
                                            extra_secrets=self.extra_secrets)
                           for root in self.roots]
        return self._rules

    # -- building ------------------------------------------------------------------------------

    async def build(self, progress: Progress | None = None) -> None:
        """List the roots and index what changed since the last build (or the last run).

        The work runs off the event loop: in worker processes for a large build (``build.py``),
        else in one worker thread, a batch at a time, so queries see each batch as it lands;
        ``progress(indexed, total)`` follows it. A large build sketches each file's definitions
        and leaves their parse to the requests that need it (``ensure_symbols``). Concurrent
        calls run one after the other.
        """
        import asyncio

        loop = asyncio.get_running_loop()
        if self._build_lock is None or self._build_lock[0] is not loop:
            self._build_lock = (loop, asyncio.Lock())
        async with self._build_lock[1]:
            self.building = True
            try:
                plan = await loop.run_in_executor(None, make_plan, self)
                await Builder(self, plan, progress).run()
                if self._dirty:
                    await loop.run_in_executor(None, self.save_cache)
            finally:
                self.building = False
            self.stats.builds += 1

    def build_sync(self, progress: Progress | None = None) -> None:
        """``build`` for callers without an event loop (the CLI, benchmarks): a build that
        needs no worker process runs in this thread, without asyncio (which a command line
        that finds its cache current then never imports)."""
        if _loop_running():
            import asyncio

            with concurrent.futures.ThreadPoolExecutor(1) as thread:  # called inside a loop
                thread.submit(asyncio.run, self.build(progress)).result()
            return
        self.building = True
        try:  # nothing but the build runs meanwhile: no collection until it ends (quiet.py)
            with collection_paused():
                builder = Builder(self, make_plan(self), progress)
                if builder.workers():
                    import asyncio

                    asyncio.run(builder.run())
                else:
                    builder.run_here()
                if self._dirty:
                    self.save_cache()
        finally:
            self.building = False
        self.stats.builds += 1

    def coverage(self) -> tuple[int, int]:
        """(files read so far, files listed); outside a build both count the indexed files
        (open files outside the roots too)."""
        with self.lock:
            read = len(self.records) + len(self.unreadable)
            return read, max(self.total, read) if self.building else read

    def _sure_after(self, key: str, mtime_ns: int, read_ns: int) -> None:
        # A write in the same clock tick as the one read would leave the stat unchanged.
        if mtime_ns > read_ns - RACY_NS:
            self._unsure.add(key)
        else:
            self._unsure.discard(key)

    def allocate(self, root: int, count: int) -> int:
        """The first of ``count`` docs of ``root`` that no segment of this session numbers
        (a batch's); from 0 again past ``postings.MAX_DOCS`` (a save then numbers afresh)."""
        with self.lock:
            first = self._next_doc[root]
            if first + count >= MAX_DOCS:
                first = 0
            self._next_doc[root] = first + count
            return first

    def _seen(self, root: int, segment: Segment | None) -> None:
        """A segment of ``root`` was read: later docs are numbered past it."""
        if segment is not None:
            with self.lock:
                self._next_doc[root] = max(self._next_doc[root], segment.next)

    @collection_paused()
    def apply(self, index: int, results: Iterable[Result],
              words: dict[str, Field] | None = None) -> int:
        """Take a batch of a pass's results (``build.py``) into the index; how many were new.

        ``words``: the batch's postings, when its results' bags are packed (``build.packed``).
        """
        base = self.roots[index].as_posix()
        made: list[FileRecord] = []  # taken in together: one update of each table
        results = list(results)
        segment = None if words is None else segment_of(
            (result[5] for result in results if result[5] is not None), words)
        with self.lock:
            for rel, size, mtime_ns, read_ns, digest, lexical, symbols in results:
                key = self.key_for(index, rel)
                current = self.records.get(key)
                if current is not None and current.from_buffer:
                    continue  # the editor's text is newer than what was read from disk
                if read_ns < self._read_at.get(key, 0):
                    continue  # read before the text the index holds now
                self._read_at[key] = read_ns
                if symbols is None:  # binary, minified or unreadable
                    self.stats.parsed += 1
                    self._drop(key)
                    if size >= 0:
                        self.unreadable[key] = (index, rel, size, mtime_ns, digest)
                        self._sure_after(key, mtime_ns, read_ns)
                    continue
                if lexical is None:  # the parse of a file whose words are unchanged
                    if current is None:
                        continue  # removed meanwhile
                    lexical = (current.language, current.terms, current.length,
                               current.path_terms, current.notes, current.kind, 0)
                    self.stats.symbols += 1
                else:
                    self.stats.parsed += 1
                    if segment is not None:
                        lexical = unpacked_lexical(lexical, segment)
                self.unreadable.pop(key, None)
                self._sure_after(key, mtime_ns, read_ns)
                made.append(make_record(key, f"{base}/{rel}", index, rel, size, mtime_ns, digest,
                                        lexical, symbols, self.secret_patterns))
            counted = None
            if segment is not None:  # the batch's frequencies, less its files not taken
                taken = {bag.doc for record in made if isinstance(bag := record.terms, Packed)
                         and bag.segment is segment}
                leaving = segment.packed[FIELDS[0]].keys() - taken
                counted = (segment, {field: segment.df(field, leaving) for field in FIELDS})
            self._put_many(made, dirty=True, counted=counted)
        return len(made)

    def ensure_symbols(self, keys: Iterable[str]) -> int:
        """Parse now those of these files whose definitions a large build sketched (a query's
        candidates: their signatures, nesting and line ranges); how many were parsed."""
        with self.lock:
            wanted = [record for key in keys if (record := self.records.get(key)) is not None
                      and not record.symbols and record.root >= 0]
        for record in wanted:
            results = symbols_pass(self.roots[record.root].as_posix(), self.secret_patterns,
                                   [(record.rel, record.digest, True)])
            self.apply(record.root, results)
        self._parsed_unsaved = self._parsed_unsaved or bool(wanted)
        return len(wanted)

    # -- single files ------------------------------------------------------------------------

    def update(self, path: Path | str, text: str | None = None) -> bool:
        """Index one file again: from ``text`` (an open buffer) or from disk.

        Returns whether the file is now in the index. A file the rules reject (a secret, an
        ignored or excluded file) is dropped instead. From disk, a file whose size and
        modification time did not change is not parsed again. A changed ``.gitignore`` or
        ``.renignore`` marks the index ``stale``: the next ``build`` lists the roots again.
        """
        index, rel = self.locate(path)
        key = self.key_for(index, rel)
        absolute = Path(rel) if index < 0 else self.roots[index] / rel
        name = absolute.name
        if index >= 0 and name in files_.IGNORE_FILE_NAMES:
            self.rules()[index].forget(rel)
            self.stale = True
        with self.lock:
            known = key in self.records or key in self.unreadable
        if self._rejects(index, rel, absolute, listed=known and not self.stale):
            self._drop(key)
            return False
        try:
            stat = absolute.stat()
            size, mtime_ns = stat.st_size, stat.st_mtime_ns
        except OSError:
            if text is None:
                self._drop(key)
                return False
            size, mtime_ns = len(text), 0
        if text is None:
            with self.lock:
                current = self.records.get(key)
            if current is not None and not current.from_buffer and (
                    current.size, current.mtime_ns) == (size, mtime_ns) and (
                    key not in self._unsure):
                return True
            read_ns = time.time_ns()
            text, digest = read_source(absolute)
            if text is None:
                self._drop(key)
                return False
            if current is not None and not current.from_buffer and current.symbols and (
                    current.digest == digest):
                self._sure_after(key, mtime_ns, read_ns)
                return True  # the same bytes (a checkout that rewrote them): nothing to parse
            self._sure_after(key, mtime_ns, read_ns)
            from_buffer = False
        else:
            from_buffer, digest = True, ""
        record = analyse(key, absolute.as_posix(), index, rel, text, size, mtime_ns,
                         self.secret_patterns, from_buffer=from_buffer, digest=digest)
        with self.lock:
            self.stats.parsed += 1
            self._put(record)
            if not from_buffer:
                self._read_at[key] = read_ns
            if from_buffer:
                self.buffers[key] = text
            else:
                self.buffers.pop(key, None)
        return True

    def remove(self, path: Path | str) -> None:
        """Forget one file (deleted, or now ignored)."""
        self._drop(self.key_of(path))

    def _rejects(self, index: int, rel: str, path: Path, *, listed: bool) -> bool:
        if index < 0:  # outside every root: only what the name says
            return files_.is_secret_file(path, self.extra_secrets) or files_.is_default_excluded(
                path.name, self.extra_ignores)
        if listed:  # the listing let it through: no need to ask git again on every keystroke
            return self.rules()[index].rejects(rel) is not None
        return self.rules()[index].check(path) is not None

    # -- reading for the renderer --------------------------------------------------------------

    def text_of(self, key: str) -> str | None:
        """The current text of an indexed file (its editor buffer when open), unredacted."""
        with self.lock:
            if key in self.buffers:
                return self.buffers[key]
            record = self.records.get(key)
        return None if record is None else read_text(Path(record.path))

    # -- the disk cache ----------------------------------------------------------------------

    def _load_cache(self, index: int) -> tuple[dict[str, Entry], dict[str, Any] | None,
                                               Segment | None]:
        if self.cache is None:
            return {}, None, None
        loaded = self.cache.load_with_tables(self.roots[index])
        self._seen(index, loaded[2])
        return loaded

    @property
    def changed_since_saved(self) -> bool:
        """Whether files were parsed on demand since the cache was written (other changes,
        files saved, are found again by their stat: worth no rewrite of the whole cache)."""
        return self._parsed_unsaved and self.cache is not None

    def save_cache(self) -> None:
        """Write each root's records to the disk cache (best effort; one save at a time)."""
        if self.cache is None:
            return
        with self._saving:
            self._save_cache()

    def _save_cache(self) -> None:
        assert self.cache is not None
        with self.lock:
            self._dirty = self._parsed_unsaved = False
            records = [r for r in self.records.values() if r.root >= 0 and not r.from_buffer]
            unreadable = list(self.unreadable.items())
            unsure = set(self._unsure)
            tables = self._tables(len(records))
        per_root: list[list[tuple[str, Entry]]] = [[] for _ in self.roots]
        # Records never change once made: converting them needs no lock.
        for record in records:
            per_root[record.root].append((record.rel, to_entry(record, record.key not in unsure)))
        for key, (index, rel, size, mtime_ns, digest) in unreadable:
            per_root[index].append((rel, (size, mtime_ns, key not in unsure, digest, None, None)))
        for number, (root, entries) in enumerate(zip(self.roots, per_root, strict=True)):
            with self.lock:
                first = self._next_doc[number]
            # (a batch numbered meanwhile may share the fresh docs' numbers: a segment read
            # from this file then overlaps it, and ``postings.merged`` keeps them apart)
            next_doc = self.cache.save(root, entries, tables, first)
            with self.lock:
                self._next_doc[number] = max(self._next_doc[number], next_doc)


def _loop_running() -> bool:
    """Whether this thread runs an event loop (none can without asyncio imported)."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _root_names(roots: Sequence[Path]) -> list[str]:
    """Unique display names of the roots (their folder names, numbered when two clash)."""
    names: list[str] = []
    for root in roots:
        name = root.name or "root"
        candidate, number = name, 2
        while candidate in names:
            candidate, number = f"{name}-{number}", number + 1
        names.append(candidate)
    return names
