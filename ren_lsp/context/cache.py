"""The index's cache on disk: one file per workspace root, keyed inside by path, with each
file's size, modification time and content digest, so a restart re-parses only what changed.

A file whose size and modification time match is trusted, unless it changed less than
``index.RACY_NS`` before it was read (a second write in the same clock tick would leave its
stat unchanged, as after a quick ``git checkout``): then its digest decides, as it does for a
file whose stat changed (a checkout that rewrote the same bytes parses nothing).

Each file's bags of words for the body and the comments are held packed, with the postings of
all of them beside (``postings.py``): a restart takes the postings, not 540,000 dict entries.

It holds only what was extracted from secret-redacted text (names, signatures, import
specifiers, term counts), never file contents; files are written atomically, readable by their
owner only. The file is a stream of ``marshal`` chunks (fast to load, and written or read a
chunk at a time, so no single step holds the interpreter for long); an unreadable or outdated
cache is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ren_lsp.context.postings import (
    FIELDS,
    MAX_DOCS,
    Segment,
    merged,
    segment_of,
    unpacked_lexical,
)
from ren_lsp.private import private_folder

if TYPE_CHECKING:
    from ren_lsp.context.records import FileRecord, Lexical

log = logging.getLogger(__name__)

#: bump when what is extracted, or how, changes
VERSION = 11

#: entries per marshal chunk
CHUNK = 512

#: (size, mtime_ns, sure, digest, lexical, symbols): both None for a file found binary or
#: minified (``records.Lexical``, ``records.Symbols``: parsed or sketched); ``sure``: the stat
#: alone tells a change (see the module's docstring). On disk, ``lexical`` holds its body's
#: and comments' bags packed, and where they are in the postings (``_packed``).
Entry = tuple[Any, ...]


def to_entry(record: FileRecord, sure: bool) -> Entry:
    """A record as the cache takes it to save (its references are read again on demand)."""
    lexical = (record.language, record.terms, record.length, record.path_terms, record.notes,
               record.kind, 0)
    from ren_lsp.context.records import packed

    definitions, names = packed(record.definitions)
    symbols = (definitions, record.imports, record.names, record.kind, record.symbols,
               tuple(names))
    return (record.size, record.mtime_ns, sure, record.digest, lexical, symbols)


class DiskCache:
    """The cache files of some roots in one folder (the user cache dir by default)."""

    def __init__(self, folder: Path, secret_patterns: Sequence[str] = ()) -> None:
        self.folder = folder
        self.secret_patterns = tuple(secret_patterns)

    def path(self, root: Path) -> Path:
        # What was redacted shapes what was extracted: other patterns, another cache.
        digest = hashlib.sha256(f"{root}\0{self.secret_patterns}".encode()).hexdigest()[:24]
        return self.folder / f"{digest}.index"

    def load(self, root: Path) -> dict[str, Entry]:
        """The entries of ``root`` by relative path ({} when there is no usable cache)."""
        return self.load_with_tables(root)[0]

    def load_with_tables(self, root: Path) -> tuple[dict[str, Entry], dict[str, Any] | None,
                                                    Segment | None]:
        """The entries of ``root`` (their bags still packed: ``lexical_of`` makes a record's),
        the index's tables over all of them when they were saved with them (``save``), and
        the postings of their packed bags."""
        path = self.path(root)
        entries: dict[str, Entry] = {}
        try:
            data = memoryview(path.read_bytes())
            chunks = iter(_frames(data))
            header = marshal.loads(next(chunks, b""))
            if not isinstance(header, dict) or header.get("version") != VERSION or header.get(
                    "root") != str(root):
                return {}, None, None
            postings = marshal.loads(next(chunks, b""))
            if not isinstance(postings, dict) or set(postings) != {"next", *FIELDS}:
                raise ValueError("no postings")
            next_doc = postings.pop("next")
            for frame in chunks:
                chunk = marshal.loads(frame)
                if not isinstance(chunk, dict):
                    raise ValueError("not a chunk of entries")
                entries.update(chunk)
            segment = segment_of((entry[4] for entry in entries.values()
                                  if entry[4] is not None), postings)
            if not isinstance(next_doc, int) or not 0 <= segment.lo <= segment.hi <= (
                    next_doc) < MAX_DOCS:
                raise ValueError("docs numbered out of range")
            segment.next = next_doc
        except FileNotFoundError:
            return {}, None, None
        except (OSError, EOFError, ValueError, TypeError, IndexError) as exc:
            log.info("context cache %s unreadable (%s): indexing afresh", path, exc)
            return {}, None, None
        tables = header.get("tables")
        return entries, tables if isinstance(tables, dict) else None, segment

    def save(self, root: Path, entries: Iterable[tuple[str, Entry]],
             tables: dict[str, Any] | None = None, next_doc: int = 0) -> int:
        """Replace the cache of ``root`` (atomically; a failure is logged, not raised).

        ``tables``: the index's document frequencies and field lengths over exactly these
        entries' records, which a restart that finds every entry unchanged takes as they are.
        The entries' bags are packed, and their postings made, here (``_packed``): the docs
        of the bags made since the segments they hold were read are numbered from
        ``next_doc``. Returns the next free doc.
        """
        try:
            # Missing parents too are the owner's only (``~/.cache/ren-lsp``); existing ones
            # are the user's and left as they are.
            private_folder(self.folder.parent, tighten=False)
            private_folder(self.folder)
        except OSError as exc:
            log.info("context cache folder %s: %s", self.folder, exc)
            return next_doc
        entries, postings = _packed(entries, next_doc)
        path = self.path(root)
        # Of this process and thread: two saves at once never write the same temporary file.
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                _write_frame(file, {"version": VERSION, "root": str(root),
                                    **({"tables": tables} if tables is not None else {})})
                _write_frame(file, postings)
                chunk: dict[str, Entry] = {}
                for rel, entry in entries:
                    chunk[rel] = entry
                    if len(chunk) >= CHUNK:
                        _write_frame(file, chunk)
                        chunk = {}
                if chunk:
                    _write_frame(file, chunk)
            os.replace(temporary, path)
        except OSError as exc:
            log.info("context cache %s not written: %s", path, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()
        return postings["next"]


def _packed(entries: Iterable[tuple[str, Entry]], next_doc: int
            ) -> tuple[list[tuple[str, Entry]], dict[str, Any]]:
    """The entries as the disk holds them, with their postings (``postings.merged``)."""
    kept = list(entries)
    at = [number for number, (_, entry) in enumerate(kept) if entry[4] is not None]
    lexicals, postings, next_doc = merged([kept[number][1][4] for number in at], next_doc)
    for number, lexical in zip(at, lexicals, strict=True):
        rel, entry = kept[number]
        kept[number] = (rel, (*entry[:4], lexical, entry[5]))
    return kept, {"next": next_doc, **postings}


def lexical_of(lexical: tuple[Any, ...], segment: Segment | None) -> Lexical:
    """A record's words from a loaded entry's (packed, placed in ``segment``)."""
    assert segment is not None  # entries come with their postings
    return unpacked_lexical(lexical, segment)


def _write_frame(file: BinaryIO, value: Any) -> None:
    # Length-prefixed: ``marshal.load`` on a file reads in tiny steps; ``loads`` on bytes is fast.
    data = marshal.dumps(value)
    file.write(len(data).to_bytes(8, "little"))
    file.write(data)


def _frames(data: memoryview) -> Iterator[memoryview]:
    position = 0
    while position < len(data):
        size = int.from_bytes(data[position:position + 8], "little")
        frame = data[position + 8:position + 8 + size]
        if len(frame) != size:
            raise ValueError("truncated")
        yield frame
        position += 8 + size
