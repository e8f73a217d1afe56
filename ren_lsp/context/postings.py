"""The index's inverted index: for each word, the files that hold it and how often.

A restart that made a dict of every file's words would make ~540,000 entries for the standard
library's body and comments alone: 80 ms of a quarter-second start, for bags a question only
ever asks a few words of. So the records a build's batch or a restart makes keep those two bags
packed, as the cache holds them (``Packed``: unpacked only when the file changes or the cache
is written again), and postings answer a question for them (``Segment``: a cache file's, or a
batch's): for each word, the ``doc << 32 | count`` of each file holding it, where ``doc``
numbers the file among its root's segments.

A field's postings are three values, fast to send, write and read (``Field``): the words, where
each one's postings end in the third, and all the postings, word after word, each word's in doc
order. A record's packed bags and its segment's postings are made from the same dicts
(``batch``, in the worker that read the files; ``merged``, when the cache is written): scoring a
file through the postings is scoring its bag.
"""

from __future__ import annotations

import marshal
from array import array
from collections import defaultdict, deque
from collections.abc import (
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    Sequence,
    Set,
    ValuesView,
)
from itertools import accumulate, chain, repeat
from operator import add, rshift, sub
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ren_lsp.context.records import FileRecord

#: the record attributes whose bags are packed (the body's words, the comments')
FIELDS = ("terms", "notes")

#: the low bits of a posting: how often the word occurs in the file
COUNT_MASK = (1 << 32) - 1
#: docs are numbered below this (the high half of a signed 64-bit posting)
MAX_DOCS = 1 << 31

#: one field's postings: (words, ``array("q")`` bytes of where each one's postings end in the
#: third, ``array("q")`` bytes of all the postings)
Field = tuple[tuple[str, ...], bytes, bytes]


def field_of(postings: Mapping[str, bytes]) -> Field:
    """The ``Field`` of word -> its postings' bytes."""
    return (tuple(postings), array("q", accumulate(map(len, postings.values()))).tobytes(),
            b"".join(postings.values()))


def _slices(field: Field) -> Iterator[bytes]:
    """Each word's postings' bytes, in the field's order of words."""
    _, ends, data = field
    bounds = array("q")
    bounds.frombytes(ends)
    return map(data.__getitem__, map(slice, chain((0,), bounds), bounds))


def pieces(field: Field) -> dict[str, bytes]:
    """Word -> its postings' bytes."""
    return dict(zip(field[0], _slices(field), strict=True))


def joined(parts: Iterable[Field]) -> Field:
    """The fields of docs that lie apart, in doc order, as one: each word's postings joined.

    At C speed per field (``map``): a cold build's save joins its batches' fields, 175,000
    words' postings for the standard library.
    """
    lists: defaultdict[str, list[bytes]] = defaultdict(list)
    slot = lists.__getitem__
    for part in parts:
        deque(map(list.append, map(slot, part[0]), _slices(part)), maxlen=0)
    # (``join`` of one bytes is that bytes)
    return field_of(dict(zip(lists, map(b"".join, lists.values()), strict=True)))


class Segment:
    """The postings of a set of files (a cache file's, or a build's batch), by field
    (``Field``); and each file's packed bags, by doc (what a save reads to take a changed
    file's postings out).

    A question scores each segment apart. The docs of a root's segments are numbered from one
    counter (``Index.allocate``) and mostly lie apart, but need not (a cache file read again
    in the same session numbers from 0): ``merged`` joins only segments whose docs do."""

    __slots__ = ("_at", "_bounds", "fields", "hi", "lo", "next", "packed")

    def __init__(self, fields: dict[str, Field], packed: dict[str, dict[int, bytes]]) -> None:
        self.fields = fields
        self.packed = packed
        docs = packed[FIELDS[0]]
        #: the docs it numbers lie in [lo, hi)
        self.lo = min(docs, default=0)
        self.hi = max(docs, default=-1) + 1
        #: the first doc its cache file left free (a loaded segment's), else ``hi``
        self.next = self.hi
        self._at: dict[str, dict[str, int]] = {}
        self._bounds: dict[str, array[int]] = {}
        for name, (words, ends, _) in fields.items():
            self._at[name] = dict(zip(words, range(len(words)), strict=True))
            bounds = self._bounds[name] = array("q")
            bounds.frombytes(ends)

    def docs(self, field: str, term: str) -> array[int] | None:
        """The postings of ``term`` in ``field``: ``doc << 32 | count`` each, or None."""
        at = self._at[field].get(term)
        if at is None:
            return None
        bounds = self._bounds[field]
        found = array("q")
        found.frombytes(memoryview(self.fields[field][2])[bounds[at - 1] if at else 0:bounds[at]])
        return found

    def df(self, field: str, leaving: Iterable[int] = ()) -> dict[str, int]:
        """In how many of its files each word of ``field`` occurs, less the ``leaving`` ones."""
        bounds = self._bounds[field]
        counts = dict(zip(self.fields[field][0], map(rshift, map(
            sub, bounds, chain((0,), bounds)), repeat(3)), strict=True))
        if not leaving:
            return counts  # (every word has a posting)
        for doc in leaving:
            for term in marshal.loads(self.packed[field][doc]):
                counts[term] -= 1
        return {term: count for term, count in counts.items() if count}

    def without(self, field: str, dead: Set[int]) -> Field:
        """The postings of ``field`` less the ``dead`` docs' (the words of changed files)."""
        return field_of(self.without_pieces(field, dead)) if dead else self.fields[field]

    def without_pieces(self, field: str, dead: Set[int]) -> dict[str, bytes]:
        """``without``, as word -> postings' bytes."""
        kept = pieces(self.fields[field])
        if not dead:
            return kept
        for term in set().union(*(marshal.loads(self.packed[field][doc]) for doc in dead)):
            found = self.docs(field, term)
            if found is None:
                continue
            left = array("q", [posting for posting in found if posting >> 32 not in dead])
            if left:
                kept[term] = left.tobytes()
            else:
                del kept[term]
        return kept

    def __repr__(self) -> str:
        return f"Segment(docs {self.lo}-{self.hi}, {len(self.packed[FIELDS[0]])} files)"


class Packed(Mapping[str, int]):
    """A file's bag of words as the cache holds it (``marshal``), with its place in the
    cache's postings; unpacked each time it is read as a mapping (it rarely is: when its file
    changes, and when the cache is written again)."""

    __slots__ = ("data", "doc", "segment", "total")

    def __init__(self, data: bytes, segment: Segment, doc: int, total: int) -> None:
        self.data = data
        self.segment = segment
        self.doc = doc
        #: the sum of the counts (a field's length, for BM25)
        self.total = total

    def unpacked(self) -> dict[str, int]:
        bag = marshal.loads(self.data)
        if not isinstance(bag, dict):
            raise ValueError("a packed bag that is not a dict")
        return bag

    def __getitem__(self, term: str) -> int:
        return self.unpacked()[term]

    def __contains__(self, term: object) -> bool:
        return term in self.unpacked()

    def __iter__(self) -> Iterator[str]:
        return iter(self.unpacked())

    def __len__(self) -> int:
        return len(self.unpacked())

    def keys(self) -> KeysView[str]:
        return self.unpacked().keys()

    def values(self) -> ValuesView[int]:
        return self.unpacked().values()

    def items(self) -> ItemsView[str, int]:
        return self.unpacked().items()

    def __repr__(self) -> str:
        return f"Packed(doc {self.doc}, {len(self.data)} bytes)"


def unpack(bag: Mapping[str, int]) -> Mapping[str, int]:
    """A bag as a dict-like mapping that reads fast (a packed one unpacked once)."""
    return bag.unpacked() if isinstance(bag, Packed) else bag


def pack(bag: Mapping[str, int]) -> bytes:
    """A bag as the cache holds it."""
    return bag.data if isinstance(bag, Packed) else marshal.dumps(dict(bag))


def total(bag: Mapping[str, int]) -> int:
    """The sum of a bag's counts."""
    return bag.total if isinstance(bag, Packed) else sum(bag.values())


def build(bags: Iterable[tuple[int, Mapping[str, int]]]) -> Field:
    """The postings of ``(doc, bag)`` pairs, each word's in the pairs' order.

    At C speed per bag (``map``, no Python step per word): ~0.2 µs a posting.
    """
    lists: defaultdict[str, list[int]] = defaultdict(list)
    slot = lists.__getitem__
    for doc, bag in bags:
        deque(map(list.append, map(slot, bag), map(add, bag.values(), repeat(doc << 32))),
              maxlen=0)
    return (tuple(lists), array("q", (size << 3 for size in accumulate(map(len, lists.values())))
                                ).tobytes(),
            array("q", chain.from_iterable(lists.values())).tobytes())


def batch(lexicals: Sequence[tuple[int, tuple[Any, ...]]]
          ) -> tuple[list[tuple[Any, ...]], dict[str, Field]]:
    """A build's words of one batch, as the cache holds them: each ``(doc, records.Lexical)``
    with its body's and comments' bags packed (``packed_lexical``), and their postings."""
    postings = {field: build((doc, lexical[at]) for doc, lexical in lexicals)
                for field, at in zip(FIELDS, _AT, strict=True)}
    return [packed_lexical(lexical, doc) for doc, lexical in lexicals], postings


#: where a ``records.Lexical`` holds the bags of ``FIELDS``
_AT = (1, 4)


def packed_lexical(lexical: tuple[Any, ...], doc: int) -> tuple[Any, ...]:
    """A ``records.Lexical`` as the cache and a build's batches hold it: ``(language, body,
    length, path, comments, kind, doc, the comments' length)``, the two bags packed."""
    language, terms, length, path_terms, notes, kind, _ = lexical
    return (language, pack(terms), length, path_terms, pack(notes), kind, doc, total(notes))


def unpacked_lexical(lexical: tuple[Any, ...], segment: Segment) -> tuple[Any, ...]:
    """A record's words (``records.Lexical``) from a packed one: its bags placed in ``segment``."""
    language, terms, length, path_terms, notes, kind, doc, notes_total = lexical
    return (language, Packed(terms, segment, doc, length), length, path_terms,
            Packed(notes, segment, doc, notes_total), kind, 0)


def segment_of(lexicals: Iterable[tuple[Any, ...]], postings: dict[str, Field]) -> Segment:
    """The segment of packed lexicals (a batch's, a cache file's) and their postings."""
    packed: dict[str, dict[int, bytes]] = {field: {} for field in FIELDS}
    terms, notes = packed["terms"], packed["notes"]
    for lexical in lexicals:
        terms[lexical[6]] = lexical[1]
        notes[lexical[6]] = lexical[4]
    return Segment(postings, packed)


def merged(worded: Sequence[tuple[Any, ...]], next_doc: int
           ) -> tuple[list[tuple[Any, ...]], dict[str, Field], int]:
    """What a save writes of the records' words (``records.Lexical`` each, bags packed or
    not): the packed lexicals, their postings, and the next free doc.

    The segments the packed bags come from are taken as they are, less the docs of files that
    changed or went since (``Segment.without``), when their docs lie apart (a restart's and
    the batches of this session's builds do); the other bags are numbered from ``next_doc``
    and their postings made. Each word's postings stay in doc order.
    """
    live: dict[Segment, set[int]] = {}
    for lexical in worded:
        terms, notes = lexical[1], lexical[4]
        if (terms.__class__ is Packed and notes.__class__ is Packed
                and terms.segment is notes.segment and terms.doc == notes.doc):
            live.setdefault(terms.segment, set()).add(terms.doc)
    taken: list[Segment] = []
    for segment in sorted(live, key=lambda s: len(live[s]), reverse=True):
        if all(segment.hi <= other.lo or other.hi <= segment.lo for other in taken):
            taken.append(segment)
    taken.sort(key=lambda s: s.lo)
    next_doc = max(next_doc, *(segment.hi for segment in taken)) if taken else next_doc
    if next_doc + len(worded) >= MAX_DOCS:  # numbered afresh, from 0 (in years of restarts)
        taken, next_doc = [], 0
    kept: set[Segment] = set(taken)
    out: list[tuple[Any, ...]] = []
    fresh: list[tuple[int, tuple[Any, ...]]] = []
    for lexical in worded:
        terms = lexical[1]
        if terms.__class__ is Packed and terms.segment in kept and terms.doc in live[
                terms.segment]:
            out.append(packed_lexical(lexical, terms.doc))
        else:
            fresh.append((next_doc, lexical))
            out.append(packed_lexical(lexical, next_doc))
            next_doc += 1
    # (a doc's two bags are packed together: the same docs are dead in both fields)
    dead = {segment: segment.packed[FIELDS[0]].keys() - live[segment] for segment in taken}
    # A restart's segment and what changed since: the first is patched word by word.
    patch = bool(taken) and sum(len(live[s]) for s in taken[1:]) + len(fresh) <= FEW
    postings: dict[str, Field] = {}
    for field, at in zip(FIELDS, _AT, strict=True):
        parts = [segment.without(field, dead[segment])
                 for segment in (taken[1:] if patch else taken)]
        parts.append(build((doc, unpack(lexical[at])) for doc, lexical in fresh))
        parts = [part for part in parts if part[0]]
        if not patch:
            postings[field] = parts[0] if len(parts) == 1 else joined(parts)
        elif not dead[taken[0]] and not parts:
            postings[field] = taken[0].fields[field]
        else:
            patched = taken[0].without_pieces(field, dead[taken[0]])
            for part in parts:
                for term, data in pieces(part).items():
                    patched[term] = patched[term] + data if term in patched else data
            postings[field] = field_of(patched)
    return out, postings, next_doc


#: up to this many files besides the first segment's, a save patches its postings word by word
FEW = 256


def packed_records(records: Iterable[FileRecord], field: str
                   ) -> dict[Segment, dict[int, FileRecord]]:
    """The records whose ``field`` bag is packed, by segment and doc: what its postings score.

    Nothing is made per record but its dict entry (a question's pass over 50,000 records
    that made a tuple for each woke the garbage collector)."""
    found: dict[Segment, dict[int, FileRecord]] = {}
    for record in records:
        bag: Any = getattr(record, field)
        if bag.__class__ is Packed:
            docs = found.get(bag.segment)
            if docs is None:
                docs = found[bag.segment] = {}
            docs[bag.doc] = record
    return found
