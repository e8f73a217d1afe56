"""One file's record: what the index extracts from its (secret-redacted) text.

``analyse`` reads definitions, imports and references (``symbols.py``), and the terms of four
fields the ranking weighs apart: the body, the definitions' names, the path, and the comments
and docstrings; and the file's kind (``kinds.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from ren_lsp.context import files as files_
from ren_lsp.context import kinds
from ren_lsp.context.kinds import file_kind
from ren_lsp.context.secrets import redact
from ren_lsp.context.symbols import Definition, extract
from ren_lsp.context.terms import count_terms, name_terms

#: a text whose lines average more than this many characters is minified or generated
MINIFIED_LINE_CHARS = 400


@attrs.frozen
class FileRecord:
    """What the index knows of one file."""

    #: how results name the file: relative to its root (prefixed by the root's name when the
    #: workspace has several), or the absolute path of a file outside every root
    key: str
    path: str
    #: index of the root in the engine's roots; -1 for a file outside every root
    root: int
    rel: str
    size: int
    mtime_ns: int
    language: str
    definitions: tuple[Definition, ...]
    imports: tuple[str, ...]
    references: frozenset[str]
    #: term -> count in the (redacted) text
    terms: dict[str, int]
    #: term -> count in the definitions' names
    names: dict[str, int]
    length: int
    #: term -> count in the path (folders, file name)
    path_terms: dict[str, int] = attrs.Factory(dict)
    #: term -> count in comments and docstrings
    notes: dict[str, int] = attrs.Factory(dict)
    #: what the file is for (``kinds.file_kind``): source, test, doc, …
    kind: str = "source"
    #: indexed from an editor buffer rather than from disk (never cached)
    from_buffer: bool = False



def read_text(path: Path) -> str | None:
    """A file's text, or None when it is binary, minified, too large or unreadable."""
    try:
        with path.open("rb") as file:
            data = file.read(files_.MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > files_.MAX_FILE_BYTES or b"\0" in data[:8192]:
        return None
    text = data.decode("utf-8", errors="replace")
    if len(text) > 4000 and len(text) > MINIFIED_LINE_CHARS * (text.count("\n") + 1):
        return None
    return text


def analyse(key: str, path: str, root: int, rel: str, text: str, size: int, mtime_ns: int,
            secret_patterns: Sequence[str], *, from_buffer: bool = False) -> FileRecord:
    """Index one file's text: its secrets are redacted before anything is extracted."""
    clean, _ = redact(text, secret_patterns)
    symbols = extract(rel, clean)
    terms = count_terms(clean)
    names = name_terms(d.name for d in symbols.definitions)
    path_terms = name_terms(rel.split("/"))
    notes = count_terms(comment_text(symbols.language, clean))
    return FileRecord(key, path, root, rel, size, mtime_ns, symbols.language,
                      symbols.definitions, symbols.imports, symbols.references, dict(terms),
                      dict(names), sum(terms.values()), dict(path_terms), dict(notes),
                      _kind(rel, clean, symbols.definitions), from_buffer)


#: what a C or C++ header that only declares defines
_DECLARATIONS = frozenset({"prototype", "macro", "struct", "union", "enum", "type", "typedef",
                           "constant", "namespace", "class"})


def _kind(rel: str, text: str, definitions: Sequence[Definition]) -> str:
    kind = file_kind(rel, text[:2000])
    if kind == kinds.SOURCE and rel.endswith((".h", ".hh", ".hpp", ".hxx")) and all(
            d.kind in _DECLARATIONS for d in definitions):
        return kinds.STUB  # a header that only declares: its implementation is elsewhere
    return kind


_HASH_COMMENTS = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'|#([^\n]*)', re.DOTALL)
_SLASH_COMMENTS = re.compile(r"/\*(.*?)\*/|//([^\n]*)", re.DOTALL)
_HASH_LANGUAGES = frozenset({"python", "ruby", "shell", "perl", "r", "toml", "yaml"})


def comment_text(language: str, text: str) -> str:
    """The comments and docstrings of a source file (what its authors say it does)."""
    if language in _HASH_LANGUAGES:
        pattern = _HASH_COMMENTS
    elif language:
        pattern = _SLASH_COMMENTS
    else:
        return ""
    return "\n".join("".join(groups) for groups in
                     (tuple(g or "" for g in m.groups()) for m in pattern.finditer(text)))
