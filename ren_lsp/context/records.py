"""One file's record: what the index extracts from its (secret-redacted) text.

``analyse`` reads definitions and imports (``symbols.py``), and the terms of four fields the
ranking weighs apart: the body, the definitions' names, the path, and the comments and
docstrings; and the file's kind (``kinds.py``).

A large build reads only each file's words and a sketch of its definitions and imports
(``lexical_fields`` and ``sketch_fields``: regular expressions, no parse); tree-sitter
(``symbol_fields``) runs on demand, for the files a request ranks highest. The names a file's
code uses (``references``) are read on demand too: only the current file's are ever asked for.
"""

from __future__ import annotations

import hashlib
import marshal
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

from ren_lsp.context import files as files_
from ren_lsp.context import kinds
from ren_lsp.context.kinds import file_kind
from ren_lsp.context.secrets import redact
from ren_lsp.context.symbols import Definition, extract, references_of
from ren_lsp.context.terms import name_pieces, name_terms, pieces_of

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
    #: a ``Definitions`` for files indexed by a build (made when first read)
    definitions: Sequence[Definition]
    imports: tuple[str, ...]
    #: names the file's code uses (a ``LazyReferences`` for files indexed by a build)
    references: Set[str]
    #: term -> count in the (redacted) text (a ``postings.Packed`` for a file a build's batch
    #: or the cache indexed: a question reads it through the postings, not as a dict)
    terms: Mapping[str, int]
    #: term -> count in the definitions' names
    names: dict[str, int]
    length: int
    #: term -> count in the path (folders, file name)
    path_terms: dict[str, int] = attrs.Factory(dict)
    #: term -> count in comments and docstrings (packed as ``terms`` is)
    notes: Mapping[str, int] = attrs.Factory(dict)
    #: what the file is for (``kinds.file_kind``): source, test, doc, …
    kind: str = "source"
    #: indexed from an editor buffer rather than from disk (never cached)
    from_buffer: bool = False
    #: a digest of the file's bytes as read (what the cache compares when the stat is unsure)
    digest: str = ""
    #: whether ``definitions``, ``imports`` and ``names`` come from a parse (True) or from the
    #: sketch a large build makes (``sketch.py``: names, lines and imports; no nesting nor ends)
    symbols: bool = True


class Definitions(Sequence[Definition]):
    """A file's definitions, made from their tuples (a worker's, or the cache's still packed
    by ``marshal``) when first read.

    Most files' definitions are never read one by one: the index only needs their names
    (``names``), and a restart would otherwise unpack and make 100,000 objects up front.
    """

    __slots__ = ("_made", "_names", "_raw")

    def __init__(self, raw: Sequence[tuple[Any, ...]] | bytes,
                 names: Sequence[str] | None = None) -> None:
        self._raw = raw  # bytes: ``marshal.dumps`` of the tuples, with ``names`` beside
        self._names = names
        self._made: tuple[Definition, ...] | None = None

    def made(self) -> tuple[Definition, ...]:
        """The definitions (made on first use)."""
        if self._made is None:
            self._made = tuple(Definition(*d) for d in self.tuples())
        return self._made

    def names(self) -> Iterable[str]:
        """The definitions' names, without making them."""
        if isinstance(self._raw, bytes):
            return self._names or ()
        return (d[0] for d in self._raw)

    def tuples(self) -> Sequence[tuple[Any, ...]]:
        """The definitions as tuples (``name, kind, line, end_line, signature, parent``)."""
        raw = self._raw
        if isinstance(raw, bytes):  # two threads may both unpack: the same tuples
            raw = self._raw = marshal.loads(raw)
        return raw

    def packed(self) -> tuple[bytes, Sequence[str]]:
        """The definitions as the cache holds them: packed, and their names."""
        if isinstance(self._raw, bytes):
            return self._raw, self._names or ()
        return marshal.dumps(tuple(self._raw)), tuple(d[0] for d in self._raw)

    def __getitem__(self, index: Any) -> Any:
        return self.made()[index]

    def __iter__(self) -> Iterator[Definition]:
        return iter(self.made())

    def __len__(self) -> int:
        if isinstance(self._raw, bytes):
            return len(self._names or ())
        return len(self._raw)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Definitions):
            return tuple(self.tuples()) == tuple(other.tuples())
        return isinstance(other, tuple) and self.made() == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Definitions({len(self)})"


def names_of(definitions: Sequence[Definition]) -> Iterable[str]:
    """The names of a record's definitions (without making them when they are lazy)."""
    if isinstance(definitions, Definitions):
        return definitions.names()
    return (d.name for d in definitions)


def packed(definitions: Sequence[Definition]) -> tuple[bytes, Sequence[str]]:
    """A record's definitions as the cache holds them (``Definitions.packed``)."""
    if isinstance(definitions, Definitions):
        return definitions.packed()
    return marshal.dumps(tuple(_as_tuple(d) for d in definitions)), tuple(
        d.name for d in definitions)


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


#: what the first pass reads: (language, terms, length, path terms, notes, kind, redactions);
#: a build's batch sends it, and the cache holds it, with terms and notes packed
#: (``postings.packed_lexical``)
Lexical = tuple[Any, ...]
#: definitions and imports: (definitions as tuples, imports, names, kind, parsed): ``parsed``
#: False for a sketch (``sketch_fields``), True for a parse (``symbol_fields``). The cache
#: holds the definitions packed (``marshal``), with their names in a sixth place.
Symbols = tuple[Any, ...]


def lexical_fields(rel: str, clean: str, redactions: int = 0) -> Lexical:
    """The first pass over a redacted text: words only, no parse."""
    from ren_lsp.context.symbols import language_of

    language = language_of(rel)
    terms = count_terms(clean)
    notes = count_terms(comment_text(language, clean))
    return (language, dict(terms), sum(terms.values()), dict(name_terms(rel.split("/"))),
            dict(notes), file_kind(rel, clean[:2000]), redactions)


def symbol_fields(rel: str, clean: str, kind: str | None = None) -> Symbols:
    """A redacted text's definitions and imports, parsed (tree-sitter); ``kind``: its
    ``file_kind`` when already known."""
    symbols = extract(rel, clean, references=False)
    return (tuple(_as_tuple(d) for d in symbols.definitions), symbols.imports,
            _names(d.name for d in symbols.definitions),
            _kind(rel, clean, (d.kind for d in symbols.definitions), kind), True)


def sketch_fields(rel: str, clean: str, kind: str | None = None) -> Symbols:
    """A redacted text's definitions and imports as ``sketch.py`` reads them (no parse); a
    language it does not know has only the cheap line-based reading, which is then all."""
    from ren_lsp.context.sketch import sketch
    from ren_lsp.context.symbols import language_of

    found = sketch(language_of(rel), clean)
    if found is None:
        return symbol_fields(rel, clean, kind)
    definitions, imports = found
    return (tuple(definitions), tuple(imports), _names(d[0] for d in definitions),
            _kind(rel, clean, (d[1] for d in definitions), kind), False)


def _names(names: Iterable[str]) -> dict[str, int]:
    """``name_terms`` of definitions' names, the same counts in the same order (names
    repeat: each is split once)."""
    terms: dict[str, int] = {}
    get = terms.get
    for name in names:
        for term in name_pieces(name):
            terms[term] = get(term, 0) + 1
    return terms


def _as_tuple(definition: Definition) -> tuple[Any, ...]:
    # Not attrs.astuple: a tuple by hand is many times faster over 100,000 definitions.
    d = definition
    return (d.name, d.kind, d.line, d.end_line, d.signature, d.parent)


def make_record(key: str, path: str, root: int, rel: str, size: int, mtime_ns: int,
                digest: str, lexical: Lexical, symbols: Symbols,
                secret_patterns: Sequence[str]) -> FileRecord:
    """A record from a build's fields: its words, and its definitions parsed or sketched."""
    language, terms, length, path_terms, notes, _, _ = lexical
    raw, imports, names, kind, parsed = symbols[:5]
    return FileRecord(key, path, root, rel, size, mtime_ns, language,
                      Definitions(raw, symbols[5] if len(symbols) > 5 else None), tuple(imports),
                      LazyReferences(path, rel, secret_patterns), terms, names, length,
                      path_terms, notes, kind, False, digest, parsed)


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
                      _kind(rel, clean, (d.kind for d in symbols.definitions)), from_buffer,
                      digest)


#: what a C or C++ header that only declares defines
_DECLARATIONS = frozenset({"prototype", "macro", "struct", "union", "enum", "type", "typedef",
                           "constant", "namespace", "class"})


def _kind(rel: str, text: str, definitions: Iterable[str], kind: str | None = None) -> str:
    """The file's kind; ``definitions``: the kinds of its definitions (read for headers);
    ``kind``: its ``file_kind`` when already known."""
    kind = file_kind(rel, text[:2000]) if kind is None else kind
    if kind == kinds.SOURCE and rel.endswith((".h", ".hh", ".hpp", ".hxx")) and all(
            definition in _DECLARATIONS for definition in definitions):
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
