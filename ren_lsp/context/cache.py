"""The index's cache on disk: one file per workspace root, keyed inside by path, size and
modification time, so a restart re-parses only what changed.

It holds only what was extracted from secret-redacted text (names, signatures, import
specifiers, term counts), never file contents; files are written atomically, readable by their
owner only. ``marshal`` keeps loading fast; an unreadable or outdated cache is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ren_lsp.context.symbols import Definition

if TYPE_CHECKING:
    from ren_lsp.context.index import FileRecord

log = logging.getLogger(__name__)

#: bump when what is extracted, or how, changes
VERSION = 6

#: (size, mtime_ns, language, definitions, imports, references, terms, names, length,
#: path_terms, notes, kind), or
#: (size, mtime_ns, None) for a file found binary or minified
Entry = tuple[Any, ...]


def to_entry(record: FileRecord) -> Entry:
    definitions = tuple(attrs.astuple(d) for d in record.definitions)
    return (record.size, record.mtime_ns, record.language, definitions, record.imports,
            tuple(record.references), record.terms, record.names, record.length,
            record.path_terms, record.notes, record.kind)


def from_entry(key: str, path: str, root: int, rel: str, entry: Entry) -> FileRecord:
    from ren_lsp.context.index import FileRecord

    (size, mtime_ns, language, definitions, imports, references, terms, names, length,
     path_terms, notes, kind) = entry
    return FileRecord(key, path, root, rel, size, mtime_ns, language,
                      tuple(Definition(*d) for d in definitions), tuple(imports),
                      frozenset(references), terms, names, length, path_terms, notes, kind)


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
        path = self.path(root)
        try:
            data = marshal.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, EOFError, ValueError, TypeError) as exc:
            log.info("context cache %s unreadable (%s): indexing afresh", path, exc)
            return {}
        if not isinstance(data, dict) or data.get("version") != VERSION or data.get(
                "root") != str(root):
            return {}
        entries = data.get("files")
        return entries if isinstance(entries, dict) else {}

    def save(self, root: Path, entries: dict[str, Entry]) -> None:
        """Replace the cache of ``root`` (atomically; a failure is logged, not raised)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            log.info("context cache folder %s: %s", self.folder, exc)
            return
        path = self.path(root)
        data = marshal.dumps({"version": VERSION, "root": str(root), "files": entries})
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except OSError as exc:
            log.info("context cache %s not written: %s", path, exc)
            with contextlib.suppress(OSError):
                temporary.unlink()
