"""The index's tables over its records: document frequencies and field lengths (what BM25
weighs by), the files defining each name, the import graph; changed only under the index's
lock, one record at a time or many together (a build's batch, a restart's cache).
"""

from __future__ import annotations

import itertools
import marshal
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any, cast

from ren_lsp.context.graph import Graph
from ren_lsp.context.postings import Segment, packed_records, total
from ren_lsp.context.records import FileRecord, names_of

#: while a build runs, the prefix vocabularies are sorted again at most this often
VOCABULARY_SECONDS = 2.0


class Tables:
    """The tables part of ``index.Index`` (which makes every attribute below)."""

    records: dict[str, FileRecord]
    graph: Graph
    buffers: dict[str, str]
    df_terms: Counter[str]
    df_names: Counter[str]
    df_path: Counter[str]
    df_notes: Counter[str]
    total_length: int
    total_names: int
    total_path: int
    total_notes: int
    with_symbols: int
    #: name -> the key of the one file that defines it, or the keys of several (``definers``):
    #: most names have one, and a string is no object for the garbage collector to walk
    defined_in: dict[str, str | set[str]]
    roots: list[Any]
    building: bool
    version: int
    lock: threading.RLock
    _dirty: bool
    _vocabularies: dict[str, tuple[int, list[str], float]]
    _derived: dict[Hashable, Any]
    _derived_at: int


    def vocabulary(self, field: str) -> list[str]:
        """The sorted terms of ``df_names`` or ``df_path`` (for prefix matches), cached.

        While a build runs the index changes with every batch: the list is sorted again at
        most every ``VOCABULARY_SECONDS`` then (a sort of 100,000 names holds the interpreter
        for tens of milliseconds; a term it misses or keeps meanwhile only widens or narrows a
        prefix match, whose terms are weighed by the current tables).
        """
        with self.lock:
            cached = self._vocabularies.get(field)
            now = time.monotonic()
            if cached is None or (cached[0] != self.version and not (
                    self.building and now - cached[2] < VOCABULARY_SECONDS)):
                table = self.df_names if field == "defs" else self.df_path
                cached = (self.version, sorted(table), now)
                self._vocabularies[field] = cached
            return cached[1]

    def derived(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """What ``make`` derives from the records (called under the lock), kept until the
        records change: what each question would otherwise derive again."""
        with self.lock:
            if self._derived_at != self.version:
                self._derived.clear()
                self._derived_at = self.version
            found = self._derived.get(key)
            if found is None:
                found = self._derived[key] = make()
            return found

    def packed_docs(self, field: str) -> dict[Segment, dict[int, FileRecord]]:
        """The records whose ``field`` bag is packed, by segment and doc (what the postings
        score: ``lexical.match``)."""
        return cast(dict[Segment, dict[int, FileRecord]], self.derived(
            ("packed", field), lambda: packed_records(self.records.values(), field)))

    def _put(self, record: FileRecord, *, dirty: bool = True,
             counted: Segment | None = None) -> None:
        """Index one record; ``counted``: a batch whose frequencies (``_put_many``) already
        count the words of the record's bags that are packed in it."""
        with self.lock:
            self.version += 1
            self._dirty = self._dirty or (dirty and not record.from_buffer)
            old = self.records.get(record.key)
            if old is not None:
                self._forget_stats(old)
            self.records[record.key] = record
            self.with_symbols += record.symbols
            if counted is None or getattr(record.terms, "segment", None) is not counted:
                self.df_terms.update(record.terms.keys())
            if counted is None or getattr(record.notes, "segment", None) is not counted:
                self.df_notes.update(record.notes.keys())
            self.df_names.update(record.names.keys())
            self.df_path.update(record.path_terms.keys())
            self.total_length += record.length
            self.total_names += sum(record.names.values())
            self.total_path += sum(record.path_terms.values())
            self.total_notes += total(record.notes)
            for name in names_of(record.definitions):
                self._define(name, record.key)
            if old is None:
                self.graph.add(record)
            else:
                self.graph.replace(old, record)

    def _put_many(self, records: Sequence[FileRecord], *, dirty: bool = False,
                  counted: tuple[Segment, dict[str, dict[str, int]]] | None = None) -> None:
        """``_put`` of many records, the tables of the new ones updated together; ``dirty``:
        they are not in the disk cache (not made from it). Records from the cache (not
        ``dirty``) never replace one indexed meanwhile: an editor's buffer, a save, is newer.

        ``counted``: a build's batch, and its frequencies over exactly the records of
        ``records`` whose bags are packed in it (``Segment.df``): not counted again.
        """
        segment = None if counted is None else counted[0]
        with self.lock:
            new = []
            for record in records:
                if record.key not in self.records:
                    new.append(record)
                elif dirty:
                    self._put(record, counted=segment)
            if counted is not None:
                self.df_terms.update(counted[1]["terms"])
                self.df_notes.update(counted[1]["notes"])
            if not new:
                return
            self._dirty = self._dirty or dirty
            self.version += 1
            self.records.update((record.key, record) for record in new)
            for table, field in ((self.df_terms, "terms"), (self.df_names, "names"),
                                 (self.df_path, "path_terms"), (self.df_notes, "notes")):
                table.update(itertools.chain.from_iterable(
                    getattr(record, field).keys() for record in new
                    if segment is None or getattr(getattr(record, field), "segment",
                                                  None) is not segment))
            self.with_symbols += sum(record.symbols for record in new)
            self.total_length += sum(record.length for record in new)
            self.total_names += sum(sum(record.names.values()) for record in new)
            self.total_path += sum(sum(record.path_terms.values()) for record in new)
            self.total_notes += sum(total(record.notes) for record in new)
            self._link(new)

    def _link(self, records: Sequence[FileRecord]) -> None:
        """New records' definitions and imports into ``defined_in`` and the graph."""
        define = self._define
        for record in records:
            key = record.key
            for name in names_of(record.definitions):
                define(name, key)
            self.graph.add(record)

    def definers(self, name: str) -> Collection[str]:
        """The keys of the files that define ``name`` (read under the lock)."""
        keys = self.defined_in.get(name)
        if keys is None:
            return ()
        return (keys,) if isinstance(keys, str) else keys

    def _define(self, name: str, key: str) -> None:
        keys = self.defined_in.get(name)
        if keys is None:
            self.defined_in[name] = key
        elif isinstance(keys, str):
            if keys != key:
                self.defined_in[name] = {keys, key}
        else:
            keys.add(key)

    def _drop(self, key: str) -> None:
        with self.lock:
            self.version += 1
            old = self.records.pop(key, None)
            self.buffers.pop(key, None)
            if old is not None:
                self._dirty = self._dirty or not old.from_buffer
                self._forget_stats(old)
                self.graph.remove(old)

    def _forget_stats(self, record: FileRecord) -> None:
        self._uncount(record)
        self._undefine(record)

    def _undefine(self, record: FileRecord) -> None:
        """Take a record's definitions out of ``defined_in``."""
        for name in names_of(record.definitions):
            keys = self.defined_in.get(name)
            if keys is None:
                continue
            if isinstance(keys, str):
                if keys == record.key:
                    del self.defined_in[name]
                continue
            keys.discard(record.key)
            if len(keys) == 1:
                self.defined_in[name] = next(iter(keys))
            elif not keys:
                del self.defined_in[name]

    def _uncount(self, record: FileRecord) -> None:
        """Take a record's words out of the frequencies and lengths."""
        self.with_symbols -= record.symbols
        for counter, terms in ((self.df_terms, record.terms), (self.df_names, record.names),
                               (self.df_path, record.path_terms), (self.df_notes, record.notes)):
            counter.subtract(terms.keys())
            for term in terms:
                if counter[term] <= 0:
                    del counter[term]
        self.total_length -= record.length
        self.total_names -= sum(record.names.values())
        self.total_path -= sum(record.path_terms.values())
        self.total_notes -= total(record.notes)

    def _tables(self, records: int) -> dict[str, Any] | None:
        """The tables over all records (under the lock), when they are those of one root's
        ``records`` records only (no open file outside it, no editor buffer): what a restart
        that finds the cache current takes as they are (``_take_with_tables``)."""
        if len(self.roots) != 1 or len(self.records) != records:
            return None
        # The body's and comments' frequencies are the cache's postings' (``Segment.df``);
        # ``defined_in`` is packed now, under the lock: its sets change with the index.
        return {"records": records, "names": dict(self.df_names), "path": dict(self.df_path),
                "totals": (self.total_length, self.total_names, self.total_path,
                           self.total_notes), "symbols": self.with_symbols,
                "defined_in": marshal.dumps(self.defined_in)}

    def _take_with_tables(self, records: Sequence[FileRecord], tables: dict[str, Any],
                          segment: Segment, stale: Sequence[FileRecord] = ()) -> bool:
        """Take in a restart's records with the tables saved with them and the frequencies of
        their cache's postings (``segment``), less what the ``stale`` records (saved, but
        changed or gone since) counted, when those two are all the records that were saved
        and the index holds nothing else; whether it could."""
        try:
            defined = marshal.loads(tables["defined_in"])
        except (KeyError, TypeError, ValueError, EOFError):
            defined = None
        if not isinstance(defined, dict):
            return False
        with self.lock:
            if self.records or tables.get("records") != len(records) + len(stale):
                return False
            self.version += 1
            self.records.update((record.key, record) for record in records)
            # Empty counters take a mapping as a dict does, at C speed.
            self.df_terms.update(segment.df("terms"))
            self.df_names.update(tables["names"])
            self.df_path.update(tables["path"])
            self.df_notes.update(segment.df("notes"))
            (self.total_length, self.total_names, self.total_path,
             self.total_notes) = tables["totals"]
            self.with_symbols = tables["symbols"]
            self.defined_in.update(defined)
            for record in stale:
                self._forget_stats(record)
            for record in records:
                self.graph.add(record)
            return True
