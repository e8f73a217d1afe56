"""One file's record: what the index extracts from its (secret-redacted) text.

``analyse`` reads definitions and imports (``symbols.py``), and the terms of four fields the
ranking weighs apart: the body, the definitions' names, the path, and the comments and
docstrings; and the file's kind (``kinds.py``).

A large build splits that in two passes (``lexical_fields``, then ``symbol_fields``): the first
only reads, hashes, redacts and counts words, so lexical search works at once; tree-sitter runs
in the second. The names a file's code uses (``references``) are read on demand: only the
current file's are ever asked for.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence, Set
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

from ren_lsp.context import files as files_
from ren_lsp.context import kinds
from ren_lsp.context.kinds import file_kind
from ren_lsp.context.secrets import redact
from ren_lsp.context.symbols import Definition, extract, references_of
from ren_lsp.context.terms import name_terms, pieces_of

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
    #: names the file's code uses (a ``LazyReferences`` for files indexed by a build)
    references: Set[str]
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
    #: a digest of the file's bytes as read (what the cache compares when the stat is unsure)
    digest: str = ""
    #: whether ``definitions``, ``imports`` and ``names`` are read yet (the second pass)
    symbols: bool = True


class LazyReferences(Set[str]):
    """The names a file's code uses, read from the file when first asked.

    Only the current file's references are ever needed (``rank.editor_signals``), so the build
    does not compute them for every file; they come from the same redacted text as the rest.
    """

    __slots__ = ("_names", "_path", "_patterns", "_rel")

    def __init__(self, path: str, rel: str, patterns: Sequence[str]) -> None:
        self._path, self._rel, self._patterns = path, rel, tuple(patterns)
        self._names: frozenset[str] | None = None

    def names(self) -> frozenset[str]:
        """The names (read and cached on first use)."""
        if self._names is None:
            text = read_text(Path(self._path))
            self._names = frozenset() if text is None else references_of(
                self._rel, redact(text, self._patterns)[0])
        return self._names

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"LazyReferences({self._rel!r})"

    __hash__ = Set._hash



def read_text(path: Path) -> str | None:
    """A file's text, or None when it is binary, minified, too large or unreadable."""
    return read_source(path)[0]


def read_source(path: Path) -> tuple[str | None, str]:
    """A file's text (None when binary, minified, too large or unreadable) and its bytes'
    digest ("" when unreadable)."""
    try:
        with path.open("rb") as file:
            data = file.read(files_.MAX_FILE_BYTES + 1)
    except OSError:
        return None, ""
    digest = digest_of(data)
    if len(data) > files_.MAX_FILE_BYTES or b"\0" in data[:8192]:
        return None, digest
    text = data.decode("utf-8", errors="replace")
    if len(text) > 4000 and len(text) > MINIFIED_LINE_CHARS * (text.count("\n") + 1):
        return None, digest
    return text, digest


def digest_of(data: bytes) -> str:
    """A short content digest (BLAKE2b, 128 bits): equal digests mean equal bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


#: every byte but an ASCII letter becomes a blank: the pieces of ``terms`` are ASCII letters only
_NOT_LETTERS = bytes.maketrans(
    bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha()),
    b" " * sum(1 for b in range(256) if not chr(b).isascii() or not chr(b).isalpha()))


@lru_cache(maxsize=200_000)
def _run_terms(run: bytes) -> tuple[str, ...]:
    return tuple(term for term in pieces_of(run.decode("ascii")) if term)


def count_terms(text: str) -> Counter[str]:
    """``terms.count_terms``, several times faster: words repeat, so each distinct run of
    letters is split and stemmed once (the same terms, counts and order; a test holds it)."""
    runs = Counter(text.encode("utf-8", "surrogatepass").translate(_NOT_LETTERS).split())
    terms: dict[str, int] = {}
    get = terms.get
    for run, count in runs.items():
        for term in _run_terms(run):
            terms[term] = get(term, 0) + count
    return Counter(terms)


#: what the first pass reads: (language, terms, length, path terms, notes, kind, redactions)
Lexical = tuple[str, dict[str, int], int, dict[str, int], dict[str, int], str, int]
#: what the second pass reads: (definitions as tuples, imports, names, kind)
Symbols = tuple[tuple[tuple[Any, ...], ...], tuple[str, ...], dict[str, int], str]


def lexical_fields(rel: str, clean: str, redactions: int = 0) -> Lexical:
    """The first pass over a redacted text: words only, no parse."""
    from ren_lsp.context.symbols import language_of

    language = language_of(rel)
    terms = count_terms(clean)
    notes = count_terms(comment_text(language, clean))
    return (language, dict(terms), sum(terms.values()), dict(name_terms(rel.split("/"))),
            dict(notes), file_kind(rel, clean[:2000]), redactions)


def symbol_fields(rel: str, clean: str) -> Symbols:
    """The second pass over a redacted text: definitions and imports (tree-sitter)."""
    symbols = extract(rel, clean, references=False)
    names = name_terms(d.name for d in symbols.definitions)
    return (tuple(attrs.astuple(d) for d in symbols.definitions), symbols.imports, dict(names),
            _kind(rel, clean, symbols.definitions))


def make_record(key: str, path: str, root: int, rel: str, size: int, mtime_ns: int,
                digest: str, lexical: Lexical, symbols: Symbols | None,
                secret_patterns: Sequence[str]) -> FileRecord:
    """A record from its passes' fields (``symbols`` None: the second pass is still to run)."""
    language, terms, length, path_terms, notes, kind, _ = lexical
    definitions: tuple[Definition, ...] = ()
    imports: tuple[str, ...] = ()
    names: dict[str, int] = {}
    if symbols is not None:
        raw, imports, names, kind = symbols
        definitions = tuple(Definition(*d) for d in raw)
        imports = tuple(imports)
    return FileRecord(key, path, root, rel, size, mtime_ns, language, definitions, imports,
                      LazyReferences(path, rel, secret_patterns), terms, names, length,
                      path_terms, notes, kind, False, digest, symbols is not None)


def analyse(key: str, path: str, root: int, rel: str, text: str, size: int, mtime_ns: int,
            secret_patterns: Sequence[str], *, from_buffer: bool = False,
            digest: str = "") -> FileRecord:
    """Index one file's text, both passes and its references: its secrets are redacted before
    anything is extracted."""
    clean, _ = redact(text, secret_patterns)
    symbols = extract(rel, clean)
    terms = count_terms(clean)
    names = name_terms(d.name for d in symbols.definitions)
    path_terms = name_terms(rel.split("/"))
    notes = count_terms(comment_text(symbols.language, clean))
    return FileRecord(key, path, root, rel, size, mtime_ns, symbols.language,
                      symbols.definitions, symbols.imports, symbols.references, dict(terms),
                      dict(names), sum(terms.values()), dict(path_terms), dict(notes),
                      _kind(rel, clean, symbols.definitions), from_buffer, digest)


#: what a C or C++ header that only declares defines
_DECLARATIONS = frozenset({"prototype", "macro", "struct", "union", "enum", "type", "typedef",
                           "constant", "namespace", "class"})


def _kind(rel: str, text: str, definitions: Sequence[Definition]) -> str:
    kind = file_kind(rel, text[:2000])
    if kind == kinds.SOURCE and rel.endswith((".h", ".hh", ".hpp", ".hxx")) and all(
            d.kind in _DECLARATIONS for d in definitions):
        return kinds.STUB  # a header that only declares: its implementation is elsewhere
    return kind


#: the comment syntaxes as (opening, closing) pairs, in the order they are tried where several
#: start at the same place; a closing "\n" ends the comment at the end of its line (or text)
Syntaxes = tuple[tuple[str, str], ...]
_HASH_COMMENTS: Syntaxes = (('"""', '"""'), ("'''", "'''"), ("#", "\n"))
_SLASH_COMMENTS: Syntaxes = (("/*", "*/"), ("//", "\n"))
_HASH_LANGUAGES = frozenset({"python", "ruby", "shell", "perl", "r", "toml", "yaml"})


def comment_text(language: str, text: str) -> str:
    """The comments and docstrings of a source file (what its authors say it does)."""
    if language in _HASH_LANGUAGES:
        syntaxes = _HASH_COMMENTS
    elif language:
        syntaxes = _SLASH_COMMENTS
    else:
        return ""
    return "\n".join(_comments(syntaxes, text))


def _comments(syntaxes: Syntaxes, text: str) -> list[str]:
    """The bodies of the comments in ``text``, left to right, each comment's opening found by
    ``str.find``: what the regular expression made of the syntaxes (three quotes, then the same
    pattern lazily; ``#`` to the line's end; DOTALL) gives to ``findall``, a comment inside
    another being part of it, twice as fast."""
    bodies: list[str] = []
    find = text.find
    #: where each syntax next opens at or after ``position`` (-1: nowhere)
    opens = [find(opening) for opening, _ in syntaxes]
    position = 0
    while True:
        first = chosen = -1
        for i, at in enumerate(opens):
            if 0 <= at < position:  # inside the last comment: look again after it
                at = opens[i] = find(syntaxes[i][0], position)
            if at >= 0 and (first < 0 or at < first):
                first, chosen = at, i
        if first < 0:
            return bodies
        opening, closing = syntaxes[chosen]
        start = first + len(opening)
        end = find(closing, start)
        if closing == "\n":
            end = len(text) if end < 0 else end
            bodies.append(text[start:end])
            position = end
        elif end < 0:  # never closed: nor is any later opening of the same syntax
            opens[chosen] = -1
        else:
            bodies.append(text[start:end])
            position = end + len(closing)
