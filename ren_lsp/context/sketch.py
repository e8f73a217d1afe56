"""A quick sketch of what a file defines and imports, by regular expressions, without a parse.

A large build (``builder.py``) reads every file's words and this sketch only: what ranking needs
from the definitions is their names (the ``defs`` field, ``defined_in``) and the imports (the
graph), and a regular expression finds nearly all of them at a fraction of tree-sitter's cost
(``bench/context.py`` prints how often the two agree). Tree-sitter then runs on demand, for the
files a request ranks highest and carries (their signatures, nesting and line ranges), and its
definitions replace the sketch's.

The sketch gives each definition its line, a one-line signature and no end line (the end is
its first line). Imports have the forms ``symbols.py`` gives, so the graph resolves them alike.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable

from ren_lsp.context.symbols import SIGNATURE_CHARS

#: (name, kind, line, end line, signature, parent), as the cache holds a definition
Sketched = tuple[str, str, int, int, str, str]

# Searches that begin with a literal (a keyword, the newline before a line) are many times
# faster than ones anchored at each line's start.
#: (one literal each: an alternation of the two would be searched for at every character)
_PY_DEFS = (re.compile(r"(def)[ \t]+([A-Za-z_]\w*)"), re.compile(r"(class)[ \t]+([A-Za-z_]\w*)"))
#: ``NAME = …``, ``NAME: type = …`` and ``NAME: type`` at the top level
_PY_CONSTANT = re.compile(r"\n([A-Za-z_]\w*)[ \t]*(?::[^=\n]*=(?!=)|:[ \t]*[^\s=#][^=\n]*$|=(?!=))",
                          re.MULTILINE)
_PY_COMMENT = re.compile(r"#[^\n]*")
_PY_NOT_CONSTANTS = frozenset({"else", "try", "finally"})
_PY_IMPORT = re.compile(r"import[ \t]++(\(|(?:[^\n#;\\]|\\\n)+)")
_PY_FROM = re.compile(r"[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+")
#: what may stand before a string's opening quotes on its line: a docstring, an argument, …

_JS_DEFS = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?"
    r"(?:(function)[ \t]*\*?[ \t]*([A-Za-z_$][\w$]*)"
    r"|(?:abstract[ \t]+)?(class|interface|enum|namespace|module)[ \t]+([A-Za-z_$][\w$]*)"
    r"|(type)[ \t]++([A-Za-z_$][\w$]*)[ \t]*+(?:<[^=\n]*>)?[ \t]*+="
    r"|(?:const|let|var)[ \t]++([A-Za-z_$][\w$]*+)[ \t]*+(?::[^=\n]++)?=[ \t]*+"
    r"((?:async[ \t]*+)?(?:function\b|class\b|\([^)\n]*+\)[ \t]*+(?::[^=\n]++)?=>"
    r"|[A-Za-z_$][\w$]*+[ \t]*+=>))?)", re.MULTILINE)
_JS_METHODS = re.compile(
    r"^[ \t]+(?:(?:public|private|protected|static|async|readonly|abstract|override|get|set)"
    r"[ \t]+)*\*?([A-Za-z_$][\w$]*+)[ \t]*+(?:<[^>\n]*+>)?[ \t]*+\([^)\n]*+\)[ \t]*+"
    r"(?::[^{;\n]++)?[{;]", re.MULTILINE)
_JS_IMPORTS = re.compile(
    r"^[ \t]*(?:(?:import|export|\})[^'\"`;\n]*?\bfrom|import)[ \t]*['\"]([^'\"\n]+)['\"]"
    r"|\brequire[ \t]*\([ \t]*['\"]([^'\"\n]+)['\"]", re.MULTILINE)
_NOT_METHODS = frozenset({"if", "for", "while", "switch", "catch", "function", "return", "with",
                          "super", "else", "do", "try", "new", "typeof"})

_GO_DEFS = re.compile(
    r"^func[ \t]+([A-Za-z_]\w*)|^func[ \t]*\([^)\n]*\)[ \t]*([A-Za-z_]\w*)"
    r"|^(type|const|var)[ \t]+([A-Za-z_]\w*)|^(type|const|var)[ \t]*+\(\n", re.MULTILINE)
_GO_IMPORTS = re.compile(r"^import[ \t]+(?:[\w.]+[ \t]+)?\"([^\"\n]+)\"|^(import)[ \t]*+\(",
                         re.MULTILINE)
_GO_SPEC = re.compile(r"^[ \t]*(?:[\w.]+[ \t]+)?\"([^\"\n]+)\"", re.MULTILINE)
_GO_BLOCK_NAME = re.compile(r"^([ \t]*)([A-Za-z_]\w*)", re.MULTILINE)

_RUST_DEFS = re.compile(
    r"^[ \t]*(?:pub(?:\([^)\n]*\))?[ \t]+)?(?:(?:async|const|unsafe|extern(?:[ \t]+\"\w+\")?)"
    r"[ \t]+)*(fn|struct|enum|union|trait|type|mod|const|static)[ \t]+([A-Za-z_]\w*)"
    r"|^[ \t]*macro_rules![ \t]*([A-Za-z_]\w*)"
    r"|^[ \t]*(?:unsafe[ \t]+)?impl\b(?:[ \t]*+<[^>\n]*+>)?[ \t]++"
    r"(?:[\w:<>, ]{1,120}?[ \t]++for[ \t]++)?"
    r"([\w:]+(?:<[^{\n]*>)?)", re.MULTILINE)
_RUST_IMPORTS = re.compile(r"^[ \t]*(?:pub(?:\([^)\n]*\))?[ \t]+)?use[ \t]+([^;]{1,1000});"
                           r"|^[ \t]*(?:pub(?:\([^)\n]*\))?[ \t]+)?mod[ \t]+(\w+)[ \t]*;",
                           re.MULTILINE)
_RUST_KINDS = {"fn": "function", "union": "struct", "const": "constant", "static": "constant",
               "mod": "module"}

_JAVA_DEFS = re.compile(
    r"^[ \t]*(?:(?:public|private|protected|static|final|abstract|sealed|non-sealed|strictfp)"
    r"[ \t]+)*(class|interface|enum|record|@interface)[ \t]+([A-Za-z_]\w*)"
    r"|^[ \t]+(?![ \t]|(?:return|new|throw|else|case)\b)"
    r"(?:(?:public|private|protected|static|final|abstract|synchronized|native|default)"
    r"[ \t]+)*(?:<[^>\n]*>[ \t]+)?[\w<>\[\],.? ]{1,120}?[ \t]+([A-Za-z_]\w*)[ \t]*"
    r"\([^;{]{0,300}?\)"
    r"[ \t\w,.]*[{;]", re.MULTILINE)
_JAVA_IMPORTS = re.compile(r"^[ \t]*import[ \t]+(?:static[ \t]+)?([\w.*]+)[ \t]*;", re.MULTILINE)
_JAVA_KINDS = {"record": "class", "@interface": "interface"}

_C_DEFS = re.compile(
    r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)"
    r"|^[ \t]*(?:typedef[ \t]+)?(struct|union|enum|class)[ \t]+([A-Za-z_]\w*)[ \t]*[:{\n]"
    r"|^[ \t]*namespace[ \t]+([A-Za-z_]\w*)"
    r"|^[ \t]*typedef\b[^;{]{0,300}?\b([A-Za-z_]\w*)[ \t]*;"
    r"|^[ \t]*(?![ \t]|(?:return|else|if|while|for|switch|typedef|delete|throw|case|new|goto)\b)"
    r"[A-Za-z_][\w \t*&:<>,]{0,120}?"
    r"[ \t*&]([A-Za-z_][\w:~]*)[ \t]*\([^;{]{0,300}?\)[ \t]*(?:const[ \t]*)?(;|\{|\n)",
    re.MULTILINE)
_C_IMPORTS = re.compile(r"^[ \t]*#[ \t]*include[ \t]*([<\"][^>\"\n]+[>\"])", re.MULTILINE)


#: how far back (or on) a line is searched from a match: its start, its signature; no line
#: of code is longer, and a bound keeps a huge single line from making the search quadratic
_LINE_WINDOW = 400


def _line_start(text: str, offset: int) -> int | None:
    """Where the line of ``offset`` starts, or None when that is over ``_LINE_WINDOW`` back."""
    newline = text.rfind("\n", max(0, offset - _LINE_WINDOW), offset)
    if newline >= 0:
        return newline + 1
    return 0 if offset <= _LINE_WINDOW else None


def _opens_string(text: str, line: int | None, start: int) -> bool:
    """Whether triple quotes at ``start`` can open a string: at a line's start, or after
    ``=``, ``(``, ``[``, ``,``, ``:`` or ``return`` (with a string prefix such as ``r``)."""
    head = text[start - _LINE_WINDOW if line is None else line:start].rstrip(" \t")
    bare = head.rstrip("rbufRBUF")
    if len(head) - len(bare) > 2:
        return False
    bare = bare.rstrip(" \t")
    if not bare:
        return line is not None
    return bare[-1] in "=([,:" or (bare.endswith("return") and not (
        bare[-7:-6].isalnum() or bare[-7:-6] == "_"))


def sketch(language: str, text: str) -> tuple[list[Sketched], list[str]] | None:
    """(definitions, imports) of a text in ``language``, or None for a language the sketch
    does not know (its fallback definitions are cheap already: the caller parses it)."""
    reader = _READERS.get(language)
    return None if reader is None else reader(text)


def _definitions(text: str, found: list[tuple[int, str, str]], *,
                 at_line: bool = False) -> list[Sketched]:
    """(offset of the match, or of its line's start when ``at_line``, name, kind) -> sketched
    definitions, in order of their lines, one per (name, line), with their line as signature."""
    out: dict[tuple[str, int], Sketched] = {}
    count, find = text.count, text.find
    offset_seen = line = 0
    found.sort()
    for offset, name, kind in found:
        start = offset if at_line else _line_start(text, offset)
        if start is None:
            start = offset - _LINE_WINDOW
        line += count("\n", offset_seen, start)  # the offsets only grow: count what is new
        offset_seen = start
        end = find("\n", start, start + _LINE_WINDOW)
        head = text[start:end if end >= 0 else start + _LINE_WINDOW].strip()
        if kind != "constant":
            head = head.rstrip("{:= ")
        if len(head) > SIGNATURE_CHARS:
            head = head[:SIGNATURE_CHARS - 1] + "…"
        out.setdefault((name, line), (name, kind, line, line, head, ""))
    return list(out.values())


class _Closing:
    """The blocks of openings met in increasing order, each to its closing text (a Go
    block's ``\\n)``, an import list's ``)``): one search serves every opening before the
    closer, and an opening inside the previous block (blocks do not nest here) opens none, so
    many openings never closed cost one pass over the text, not one each."""

    __slots__ = ("_at", "_closer", "_covered", "_text")

    def __init__(self, text: str, closer: str) -> None:
        self._text, self._closer, self._at, self._covered = text, closer, -2, -1

    def block(self, offset: int) -> str | None:
        """The text from ``offset`` to the closer after it; None when none closes it or the
        opening lies inside the previous block."""
        if offset < self._covered or self._at == -1:
            return None
        if offset > self._at:
            self._at = self._text.find(self._closer, offset)
            if self._at == -1:
                return None
        self._covered = self._at
        return self._text[offset:self._at]


def _triple_quoted(text: str) -> list[int]:
    """Where the triple-quoted strings (docstrings: their examples are not definitions) start
    and end, flattened: ``[start, end, start, end, …]``. An opening must stand where a string
    can: three quotes inside another string open none)."""
    spans: list[int] = []
    position = 0
    double, single = text.find('"""'), text.find("'''")
    while double >= 0 or single >= 0:
        start = double if single < 0 or 0 <= double < single else single
        delimiter = text[start:start + 3]
        if _opens_string(text, _line_start(text, start), start):
            end = text.find(delimiter, start + 3)
            position = len(text) if end < 0 else end + 3
            spans += (start, position)
        else:
            position = start + 3
        if 0 <= double < position:
            double = text.find('"""', position)
        if 0 <= single < position:
            single = text.find("'''", position)
    return spans


def _python(text: str) -> tuple[list[Sketched], list[str]]:
    strings = _triple_quoted(text)
    lined = "\n" + text  # offsets in it are one past those in ``text``: a line's start

    def code(offset: int) -> bool:  # not inside a triple-quoted string
        return not strings or not bisect.bisect_right(strings, offset) % 2

    found: list[tuple[int, str, str]] = []
    for m in itertools.chain(*(pattern.finditer(text) for pattern in _PY_DEFS)):
        # then its line must begin there
        start = m.start()
        line = _line_start(text, start)
        if line is None:
            continue  # no definition begins so far into its line
        if line < start:
            prefix = text[line:start]
            if not prefix.isspace() and not (prefix.strip() == "async" and m.group(1) == "def"
                                             and prefix[-1] in " \t"):
                continue
        if code(start):
            found.append((line, m.group(2), "function" if m.group(1) == "def" else "class"))
    found += [(m.start(), m.group(1), "constant") for m in _PY_CONSTANT.finditer(lined)
              if code(m.start()) and m.group(1) not in _PY_NOT_CONSTANTS]
    imports: list[str] = []
    parenthesis = _Closing(text, ")")
    for m in _PY_IMPORT.finditer(text):
        start = m.start()
        line = _line_start(text, start)
        if line is None:
            continue
        source = None
        if line < start and not text[line:start].isspace():
            source = _PY_FROM.fullmatch(text, line, start)
            if source is None:
                continue
        if not code(start):
            continue
        names = m.group(1)
        if names == "(":  # to its closing parenthesis, however far
            names = parenthesis.block(m.end()) or ""
        if "#" in names:  # comments between the names of a parenthesized list
            names = _PY_COMMENT.sub("", names)
        listed = [part.split()[0] for part in names.strip("()").replace("\\\n", " ").split(",")
                  if part.split()]
        if source is None:
            imports.extend(listed)
        elif source.group(1) != "__future__":  # a parse reads a directive there, no import
            imports.append(f"{source.group(1)}:{','.join(n for n in listed if n != '*')}")
    return _definitions(text, found, at_line=True), imports


def _javascript(text: str) -> tuple[list[Sketched], list[str]]:
    found: list[tuple[int, str, str]] = []
    for m in _JS_DEFS.finditer(text):
        if m.group(2):
            found.append((m.start(), m.group(2), "function"))
        elif m.group(4):
            kind = m.group(3)
            found.append((m.start(), m.group(4), {"namespace": "module"}.get(kind, kind)))
        elif m.group(6):
            found.append((m.start(), m.group(6), "type"))
        elif m.group(7):
            value = m.group(8)
            if value:
                found.append((m.start(), m.group(7), "function"))
            elif not text[m.start():m.start() + 1].isspace():  # only the top level's
                found.append((m.start(), m.group(7), "constant"))
    for m in _JS_METHODS.finditer(text):
        if m.group(1) not in _NOT_METHODS:
            found.append((m.start(), m.group(1), "method"))
    imports = [m.group(1) or m.group(2) for m in _JS_IMPORTS.finditer(text)]
    return _definitions(text, found), imports


def _go(text: str) -> tuple[list[Sketched], list[str]]:
    found: list[tuple[int, str, str]] = []
    closing = _Closing(text, "\n)")
    for m in _GO_DEFS.finditer(text):
        if m.group(1):
            found.append((m.start(), m.group(1), "function"))
        elif m.group(2):
            found.append((m.start(), m.group(2), "method"))
        elif m.group(4):
            found.append((m.start(), m.group(4), "type" if m.group(3) == "type" else "constant"))
        else:
            kind = "type" if m.group(5) == "type" else "constant"
            body = m.end()
            block = closing.block(body) or ""
            indent = block[:len(block) - len(block.lstrip(" \t"))]
            for spec in _GO_BLOCK_NAME.finditer(block):  # a spec's first line, not its value's
                if spec.group(1) == indent:
                    found.append((body + spec.start(), spec.group(2), kind))
    imports: list[str] = []
    imports_closing = _Closing(text, "\n)")
    for m in _GO_IMPORTS.finditer(text):
        if m.group(1):
            imports.append(m.group(1))
        else:
            block = imports_closing.block(m.end()) or ""
            imports.extend(spec.group(1) for spec in _GO_SPEC.finditer(block))
    return _definitions(text, found), imports


def _rust(text: str) -> tuple[list[Sketched], list[str]]:
    found: list[tuple[int, str, str]] = []
    for m in _RUST_DEFS.finditer(text):
        if m.group(2):
            found.append((m.start(), m.group(2), _RUST_KINDS.get(m.group(1), m.group(1))))
        elif m.group(3):
            found.append((m.start(), m.group(3), "macro"))
        elif m.group(4):
            found.append((m.start(), re.sub(r"<.*", "", m.group(4)), "impl"))
    imports: list[str] = []
    for m in _RUST_IMPORTS.finditer(text):
        imports.append(re.sub(r"\s+", "", m.group(1)) if m.group(1) else "mod:" + m.group(2))
    return _definitions(text, found), imports


def _java(text: str) -> tuple[list[Sketched], list[str]]:
    found: list[tuple[int, str, str]] = []
    for m in _JAVA_DEFS.finditer(text):
        if m.group(2):
            found.append((m.start(), m.group(2), _JAVA_KINDS.get(m.group(1), m.group(1))))
        elif m.group(3) not in _NOT_METHODS:
            found.append((m.start(), m.group(3), "method"))
    return _definitions(text, found), [m.group(1) for m in _JAVA_IMPORTS.finditer(text)]


def _c(text: str) -> tuple[list[Sketched], list[str]]:
    found: list[tuple[int, str, str]] = []
    for m in _C_DEFS.finditer(text):
        if m.group(1):
            found.append((m.start(), m.group(1), "macro"))
        elif m.group(3):
            kind = m.group(2)
            found.append((m.start(), m.group(3), "struct" if kind == "union" else kind))
        elif m.group(4):
            found.append((m.start(), m.group(4), "namespace"))
        elif m.group(5):
            found.append((m.start(), m.group(5), "type"))
        elif m.group(6):
            name = m.group(6).rpartition("::")[2]
            found.append((m.start(), name, "prototype" if m.group(7) == ";" else "function"))
    return _definitions(text, found), [m.group(1).strip("<>\"")
                                       for m in _C_IMPORTS.finditer(text)]


_READERS: dict[str, Callable[[str], tuple[list[Sketched], list[str]]]] = {
    "python": _python, "javascript": _javascript, "typescript": _javascript,
    "tsx": _javascript, "go": _go, "rust": _rust, "java": _java, "c": _c, "cpp": _c,
}
