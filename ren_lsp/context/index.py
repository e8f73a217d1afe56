"""The index: every readable file's symbols, imports and terms, kept current and cached on disk.

- ``build()`` lists the roots, reuses what is still valid (in memory, else from the disk cache,
  keyed by path, size and modification time), parses the rest in batches off the event loop, and
  reports progress after each batch. Queries run meanwhile see what is indexed so far.
- ``update(path, text)`` re-indexes one file (from an open buffer's text, or from disk) and
  ``remove(path)`` forgets one: editor events never cause a rescan.
- The disk cache (``cache.py``) holds only what was extracted from secret-redacted text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from ren_lsp.context import files as files_
from ren_lsp.context.cache import DiskCache, from_entry, to_entry
from ren_lsp.context.graph import Graph
from ren_lsp.context.records import FileRecord, analyse, read_text

log = logging.getLogger(__name__)

BATCH = 48

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



class Index:
    """The files of some roots (possibly none), and of open files outside them."""

    def __init__(self, roots: Sequence[Path], *, cache_dir: Path | None = None,
                 extra_ignores: Sequence[str] = (), extra_secrets: Sequence[str] = (),
                 secret_patterns: Sequence[str] = ()) -> None:
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
        #: defined name -> keys of the files that define it
        self.defined_in: dict[str, set[str]] = {}
        #: the text of files indexed from editor buffers, by key
        self.buffers: dict[str, str] = {}
        #: listed files found binary or minified when read: key -> (root, rel, size, mtime)
        self.unreadable: dict[str, tuple[int, str, int, int]] = {}
        #: a .gitignore or .renignore changed: the next build lists the roots again
        self.stale = False
        self.lock = threading.RLock()
        #: bumped on every change of the records (what caches of derived tables compare)
        self.version = 0
        self._vocabularies: dict[str, tuple[int, list[str]]] = {}
        self._rules: list[files_.RootRules] | None = None
        self._names = _root_names(self.roots)
        self._build_lock: asyncio.Lock | None = None

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

    # -- changing the records (always under the lock) -----------------------------------------

    def vocabulary(self, field: str) -> list[str]:
        """The sorted terms of ``df_names`` or ``df_path`` (for prefix matches), cached."""
        with self.lock:
            cached = self._vocabularies.get(field)
            if cached is None or cached[0] != self.version:
                table = self.df_names if field == "defs" else self.df_path
                cached = (self.version, sorted(table))
                self._vocabularies[field] = cached
            return cached[1]

    def _put(self, record: FileRecord) -> None:
        with self.lock:
            self.version += 1
            old = self.records.get(record.key)
            if old is not None:
                self._forget_stats(old)
            self.records[record.key] = record
            self.df_terms.update(record.terms.keys())
            self.df_names.update(record.names.keys())
            self.df_path.update(record.path_terms.keys())
            self.df_notes.update(record.notes.keys())
            self.total_length += record.length
            self.total_names += sum(record.names.values())
            self.total_path += sum(record.path_terms.values())
            self.total_notes += sum(record.notes.values())
            for definition in record.definitions:
                self.defined_in.setdefault(definition.name, set()).add(record.key)
            if old is None:
                self.graph.add(record)
            else:
                self.graph.replace(old, record)

    def _drop(self, key: str) -> None:
        with self.lock:
            self.version += 1
            old = self.records.pop(key, None)
            self.buffers.pop(key, None)
            if old is not None:
                self._forget_stats(old)
                self.graph.remove(old)

    def _forget_stats(self, record: FileRecord) -> None:
        for counter, terms in ((self.df_terms, record.terms), (self.df_names, record.names),
                               (self.df_path, record.path_terms), (self.df_notes, record.notes)):
            counter.subtract(terms.keys())
            for term in terms:
                if counter[term] <= 0:
                    del counter[term]
        self.total_length -= record.length
        self.total_names -= sum(record.names.values())
        self.total_path -= sum(record.path_terms.values())
        self.total_notes -= sum(record.notes.values())
        for definition in record.definitions:
            keys = self.defined_in.get(definition.name)
            if keys is not None:
                keys.discard(record.key)
                if not keys:
                    del self.defined_in[definition.name]

    # -- building ------------------------------------------------------------------------------

    async def build(self, progress: Progress | None = None) -> None:
        """List the roots and index what changed since the last build (or the last run).

        CPU and disk work runs in the default executor, a batch at a time, so the event loop
        stays responsive and queries see each batch as it lands. Concurrent calls run one after
        the other.
        """
        if self._build_lock is None:
            self._build_lock = asyncio.Lock()
        loop = asyncio.get_running_loop()
        async with self._build_lock:
            plan = await loop.run_in_executor(None, self._plan)
            total = plan.total
            done = total - len(plan.to_parse)
            if progress is not None:
                progress(done, total)
            for start in range(0, len(plan.to_parse), BATCH):
                batch = plan.to_parse[start:start + BATCH]
                records = await loop.run_in_executor(None, self._parse_batch, batch)
                self._apply_parsed(records)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
            await loop.run_in_executor(None, self.save_cache)
            self.stats.builds += 1

    def build_sync(self, progress: Progress | None = None) -> None:
        """``build`` for callers without an event loop (the CLI, benchmarks)."""
        plan = self._plan()
        done = plan.total - len(plan.to_parse)
        if progress is not None:
            progress(done, plan.total)
        for start in range(0, len(plan.to_parse), BATCH):
            batch = plan.to_parse[start:start + BATCH]
            self._apply_parsed(self._parse_batch(batch))
            done += len(batch)
            if progress is not None:
                progress(done, plan.total)
        self.save_cache()
        self.stats.builds += 1

    def _plan(self) -> _Plan:
        """List, stat, reuse what is unchanged (memory, then the disk cache); the rest to parse."""
        if self.stale:
            self._rules = None
            self.stale = False
        listed: dict[str, tuple[int, str]] = {}
        skipped: dict[str, int] = {}
        for index, rules in enumerate(self.rules()):
            listing = rules.listing()
            for reason, count in listing.skipped.items():
                skipped[reason] = skipped.get(reason, 0) + count
            for rel in listing.files:
                listed[self.key_for(index, rel)] = (index, rel)
        self.stats.listed, self.stats.skipped = len(listed), skipped
        with self.lock:
            gone = [key for key, record in self.records.items()
                    if record.root >= 0 and key not in listed and not record.from_buffer]
            for key in [key for key in self.unreadable if key not in listed]:
                del self.unreadable[key]
        for key in gone:
            self._drop(key)
        cached = [self._load_cache(index) for index in range(len(self.roots))]
        to_parse: list[tuple[str, int, str, int, int]] = []
        for key, (index, rel) in listed.items():
            path = self.roots[index] / rel
            try:
                stat = path.stat()
            except OSError:
                continue
            with self.lock:
                current = self.records.get(key)
            if current is not None and (current.from_buffer or (
                    current.size, current.mtime_ns) == (stat.st_size, stat.st_mtime_ns)):
                self.stats.kept += 1
                continue
            if self.unreadable.get(key) == (index, rel, stat.st_size, stat.st_mtime_ns):
                self.stats.kept += 1
                continue
            entry = cached[index].get(rel)
            if entry is not None and (entry[0], entry[1]) == (stat.st_size, stat.st_mtime_ns):
                if entry[2] is None:  # read before and found binary or minified
                    self.unreadable[key] = (index, rel, stat.st_size, stat.st_mtime_ns)
                else:
                    self._put(from_entry(key, path.as_posix(), index, rel, entry))
                self.stats.from_cache += 1
                continue
            to_parse.append((key, index, rel, stat.st_size, stat.st_mtime_ns))
        return _Plan(len(listed), to_parse)

    def _parse_batch(self, batch: Iterable[tuple[str, int, str, int, int]]
                     ) -> list[tuple[tuple[str, int, str, int, int], FileRecord | None]]:
        parsed: list[tuple[tuple[str, int, str, int, int], FileRecord | None]] = []
        for item in batch:
            key, index, rel, size, mtime_ns = item
            path = self.roots[index] / rel
            text = read_text(path)
            record = None if text is None else analyse(
                key, path.as_posix(), index, rel, text, size, mtime_ns, self.secret_patterns)
            parsed.append((item, record))
        return parsed

    def _apply_parsed(self, parsed: Iterable[tuple[tuple[str, int, str, int, int],
                                                   FileRecord | None]]) -> None:
        with self.lock:
            for (key, index, rel, size, mtime_ns), record in parsed:
                current = self.records.get(key)
                if current is not None and current.from_buffer:
                    continue  # the editor's text is newer than what was read from disk
                self.stats.parsed += 1
                if record is None:
                    self._drop(key)
                    self.unreadable[key] = (index, rel, size, mtime_ns)
                else:
                    self.unreadable.pop(key, None)
                    self._put(record)

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
                    current.size, current.mtime_ns) == (size, mtime_ns):
                return True
            text = read_text(absolute)
            if text is None:
                self._drop(key)
                return False
            from_buffer = False
        else:
            from_buffer = True
        record = analyse(key, absolute.as_posix(), index, rel, text, size, mtime_ns,
                         self.secret_patterns, from_buffer=from_buffer)
        with self.lock:
            self.stats.parsed += 1
            self._put(record)
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

    def _load_cache(self, index: int) -> dict[str, tuple[Any, ...]]:
        if self.cache is None:
            return {}
        return self.cache.load(self.roots[index])

    def save_cache(self) -> None:
        """Write each root's records to the disk cache (best effort)."""
        if self.cache is None:
            return
        with self.lock:
            per_root: list[dict[str, tuple[Any, ...]]] = [{} for _ in self.roots]
            for record in self.records.values():
                if record.root >= 0 and not record.from_buffer:
                    per_root[record.root][record.rel] = to_entry(record)
            for index, rel, size, mtime_ns in self.unreadable.values():
                per_root[index][rel] = (size, mtime_ns, None)
        for root, entries in zip(self.roots, per_root, strict=True):
            self.cache.save(root, entries)


@attrs.frozen
class _Plan:
    total: int
    to_parse: list[tuple[str, int, str, int, int]]


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
