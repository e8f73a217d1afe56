"""What a file defines, imports and refers to: tree-sitter where a grammar is installed, else a
line-based fallback.

Grammars come from the tree-sitter project's own wheels (``tree-sitter-python``, …), which ship
compiled parsers: nothing is downloaded at run time. ``tree_sitter`` is imported on the first
parse, not with this module, so importing the context engine stays cheap.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

import attrs

#: file suffix -> language name (a key of GRAMMARS, or a fallback language)
LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "cpp", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".tpp": "cpp",
}

#: language -> (module, function returning the grammar's pointer)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

_JS_DEFS = """
(function_declaration name: (_) @name) @definition.function
(generator_function_declaration name: (_) @name) @definition.function
(class_declaration name: (_) @name) @definition.class
(method_definition name: (_) @name) @definition.method
(variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression) (class)]) @definition.function
(program (lexical_declaration (variable_declarator name: (identifier) @name) @definition.constant))
(program (export_statement
  declaration: (lexical_declaration
    (variable_declarator name: (identifier) @name) @definition.constant)))
(import_statement source: (string) @import)
(export_statement source: (string) @import)
(call_expression function: (identifier) @_require arguments: (arguments . (string) @import)
  (#eq? @_require "require"))
"""

_TS_DEFS = _JS_DEFS + """
(interface_declaration name: (_) @name) @definition.interface
(type_alias_declaration name: (_) @name) @definition.type
(enum_declaration name: (_) @name) @definition.enum
(abstract_class_declaration name: (_) @name) @definition.class
(function_signature name: (_) @name) @definition.function
(method_signature name: (_) @name) @definition.method
(abstract_method_signature name: (_) @name) @definition.method
(internal_module name: (_) @name) @definition.module
"""

_C_DEFS = """
(function_definition declarator: (function_declarator declarator: (_) @name)) @definition.function
(function_definition declarator: (pointer_declarator
  declarator: (function_declarator declarator: (_) @name))) @definition.function
(function_definition declarator: (pointer_declarator declarator: (pointer_declarator
  declarator: (function_declarator declarator: (_) @name)))) @definition.function
(declaration declarator: (function_declarator declarator: (identifier) @name)) @definition.prototype
(declaration declarator: (pointer_declarator
  declarator: (function_declarator declarator: (identifier) @name))) @definition.prototype
(struct_specifier name: (type_identifier) @name body: (_)) @definition.struct
(union_specifier name: (type_identifier) @name body: (_)) @definition.struct
(enum_specifier name: (type_identifier) @name body: (_)) @definition.enum
(type_definition declarator: (type_identifier) @name) @definition.type
(preproc_def name: (identifier) @name) @definition.macro
(preproc_function_def name: (identifier) @name) @definition.macro
(preproc_include path: (_) @import)
"""

#: language -> tree-sitter query: @name inside @definition.<kind>, @import specifiers
QUERIES: dict[str, str] = {
    "python": """
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
(module (expression_statement (assignment left: (identifier) @name) @definition.constant))
(import_statement name: (dotted_name) @import)
(import_statement name: (aliased_import name: (dotted_name) @import))
(import_from_statement) @import.from
""",
    "javascript": _JS_DEFS,
    "typescript": _TS_DEFS,
    "tsx": _TS_DEFS,
    "go": """
(function_declaration name: (identifier) @name) @definition.function
(method_declaration name: (field_identifier) @name) @definition.method
(type_spec name: (type_identifier) @name) @definition.type
(source_file (const_declaration (const_spec name: (identifier) @name) @definition.constant))
(source_file (var_declaration (var_spec name: (identifier) @name) @definition.constant))
(import_spec path: (_) @import)
""",
    "rust": """
(function_item name: (identifier) @name) @definition.function
(function_signature_item name: (identifier) @name) @definition.function
(struct_item name: (type_identifier) @name) @definition.struct
(enum_item name: (type_identifier) @name) @definition.enum
(union_item name: (type_identifier) @name) @definition.struct
(trait_item name: (type_identifier) @name) @definition.trait
(type_item name: (type_identifier) @name) @definition.type
(mod_item name: (identifier) @name) @definition.module
(macro_definition name: (identifier) @name) @definition.macro
(const_item name: (identifier) @name) @definition.constant
(static_item name: (identifier) @name) @definition.constant
(impl_item type: (_) @name) @definition.impl
(use_declaration argument: (_) @import)
(mod_item name: (identifier) @import.mod !body)
""",
    "java": """
(class_declaration name: (identifier) @name) @definition.class
(interface_declaration name: (identifier) @name) @definition.interface
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.interface
(method_declaration name: (identifier) @name) @definition.method
(import_declaration) @import.java
""",
    "c": _C_DEFS,
    "cpp": _C_DEFS + """
(class_specifier name: (_) @name body: (_)) @definition.class
(namespace_definition name: (_) @name) @definition.namespace
(function_definition declarator: (reference_declarator
  (function_declarator declarator: (_) @name))) @definition.function
(field_declaration declarator: (function_declarator declarator: (_) @name)) @definition.method
(alias_declaration name: (type_identifier) @name) @definition.type
""",
}

#: language -> node types of comments and string literals: names in them are not references
NOISE_NODES: dict[str, tuple[str, ...]] = {
    "python": ("comment", "string"),
    "javascript": ("comment", "string", "template_string"),
    "typescript": ("comment", "string", "template_string"),
    "tsx": ("comment", "string", "template_string"),
    "go": ("comment", "interpreted_string_literal", "raw_string_literal"),
    "rust": ("line_comment", "block_comment", "string_literal", "raw_string_literal",
             "char_literal"),
    "java": ("line_comment", "block_comment", "string_literal", "character_literal"),
    "c": ("comment", "string_literal", "char_literal", "system_lib_string"),
    "cpp": ("comment", "string_literal", "raw_string_literal", "char_literal",
            "system_lib_string"),
}
_NAME_BYTES = re.compile(rb"[A-Za-z_$][A-Za-z0-9_$]*")

#: kinds that contain other definitions (their names qualify what is inside)
CONTAINERS = frozenset({"class", "interface", "struct", "trait", "impl", "enum", "namespace",
                        "module"})

SIGNATURE_CHARS = 160
IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

_FALLBACK_DEFINITION = re.compile(
    r"^[ \t]*(?:(?:export|public|private|protected|internal|static|async|abstract|final|"
    r"override|open|local|pub|inline|sealed|data|default)[ \t]+)*"
    r"(?P<kind>def|defp|defmodule|class|module|function|func|fun|fn|sub|proc|interface|struct|"
    r"trait|enum|object|protocol|record|type|macro)[ \t]+(?P<name>[A-Za-z_][\w$?!]*)",
    re.MULTILINE)
_SHELL_FUNCTION = re.compile(
    r"^[ \t]*(?:function[ \t]+)?(?P<name>[A-Za-z_][\w-]*)[ \t]*\(\)[ \t]*\{", re.MULTILINE)
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<name>\S.*?)[ \t#]*$", re.MULTILINE)
_FALLBACK_KINDS = {"def": "function", "defp": "function", "fn": "function", "fun": "function",
                   "func": "function", "sub": "function", "proc": "function",
                   "defmodule": "module", "object": "class", "protocol": "interface",
                   "record": "class"}


@attrs.frozen
class Definition:
    """One named definition in a file; lines are 0-based and inclusive."""

    name: str
    kind: str
    line: int
    end_line: int
    signature: str
    #: the enclosing class, impl, namespace… ("" at the top level)
    parent: str = ""


@attrs.frozen
class FileSymbols:
    """What one file defines, imports (raw specifiers) and refers to (names)."""

    language: str
    definitions: tuple[Definition, ...]
    imports: tuple[str, ...]
    references: frozenset[str]
    #: True when a grammar parsed the file; False for the line-based fallback
    parsed: bool


def language_of(path: str) -> str:
    """The language of a file from its name ('' for plain text and unknown kinds)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in LANGUAGES:
        return LANGUAGES[suffix]
    return {".md": "markdown", ".markdown": "markdown", ".rst": "markdown", ".sh": "shell",
            ".bash": "shell", ".zsh": "shell"}.get(suffix, suffix.lstrip(".") or "text")


class _Grammars:
    """Parsers and compiled queries, made on first use; a parser per thread (they are not
    shareable across threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._languages: dict[str, Any] = {}
        self._queries: dict[str, Any] = {}
        self._noise: dict[str, Any] = {}
        self._missing: set[str] = set()
        self._local = threading.local()

    def get(self, language: str) -> tuple[Any, Any, Any] | None:
        if language not in GRAMMARS or language in self._missing:
            return None
        with self._lock:
            if language not in self._languages:
                try:
                    import tree_sitter

                    module_name, function = GRAMMARS[language]
                    module = importlib.import_module(module_name)
                    grammar = tree_sitter.Language(getattr(module, function)())
                    self._queries[language] = tree_sitter.Query(grammar, QUERIES[language])
                    noise = " ".join(f"({kind})" for kind in NOISE_NODES[language])
                    self._noise[language] = tree_sitter.Query(grammar, f"[{noise}] @noise")
                    self._languages[language] = grammar
                except (ImportError, AttributeError, ValueError, OSError):
                    # Not installed, or an ABI this tree-sitter cannot load: fall back.
                    self._missing.add(language)
                    return None
        parsers: dict[str, Any] = self._local.__dict__.setdefault("parsers", {})
        if language not in parsers:
            import tree_sitter

            parsers[language] = tree_sitter.Parser(self._languages[language])
        return parsers[language], self._queries[language], self._noise[language]


_GRAMMARS = _Grammars()


def available_grammars() -> list[str]:
    """The languages whose tree-sitter grammar loads here."""
    return [language for language in GRAMMARS if _GRAMMARS.get(language) is not None]


def parser_for(language: str) -> Any | None:
    """This thread's tree-sitter parser of a language, None without its grammar (inline
    completion reads the syntax at the cursor with it)."""
    grammar = _GRAMMARS.get(language)
    return None if grammar is None else grammar[0]


def extract(path: str, text: str, *, references: bool = True) -> FileSymbols:
    """The symbols of a file, by its tree-sitter grammar when one is installed.

    Without ``references`` the names the code uses are not read (an empty set): the index
    reads them on demand (``references_of``), since only the current file's are needed.
    """
    language = language_of(path)
    grammar = _GRAMMARS.get(language)
    if grammar is None:
        return _fallback(language, text, references=references)
    parser, query, noise = grammar
    return _with_tree_sitter(language, text, parser, query, noise if references else None)


def references_of(path: str, text: str) -> frozenset[str]:
    """The names a file's code uses (``extract(...).references``, without its definitions)."""
    language = language_of(path)
    grammar = _GRAMMARS.get(language)
    if grammar is None:
        return _fallback_references(language, text)
    parser, _, noise = grammar
    source = text.encode("utf-8", errors="surrogatepass")
    return _references(source, parser.parse(source).root_node, noise)


# -- tree-sitter ----------------------------------------------------------------------------------


def _with_tree_sitter(language: str, text: str, parser: Any, query: Any,
                      noise: Any | None) -> FileSymbols:
    import tree_sitter

    source = text.encode("utf-8", errors="surrogatepass")
    tree = parser.parse(source)
    cursor = tree_sitter.QueryCursor(query)
    found: dict[tuple[str, int], Definition] = {}
    imports: list[str] = []
    for _, captures in cursor.matches(tree.root_node):
        for capture, nodes in captures.items():
            if capture == "import":
                imports.extend(_import_text(language, node) for node in nodes)
            elif capture == "import.from":
                imports.extend(_python_from_import(node) for node in nodes)
            elif capture == "import.java":
                imports.extend(_java_import(node) for node in nodes)
            elif capture == "import.mod":
                imports.extend("mod:" + _text(node) for node in nodes)
            elif capture.startswith("definition."):
                names = captures.get("name")
                if not names:
                    continue
                for node in nodes:
                    definition = _definition(capture.removeprefix("definition."), node, names[0])
                    seen = found.get((definition.name, definition.line))
                    # `const f = () => …` is a constant and a function: say function
                    if seen is None or (seen.kind == "constant" and definition.kind != seen.kind):
                        found[(definition.name, definition.line)] = definition
    definitions = _nest(sorted(found.values(), key=lambda d: (d.line, -d.end_line)))
    return FileSymbols(language, tuple(definitions), tuple(i for i in imports if i),
                       frozenset() if noise is None else _references(source, tree.root_node, noise),
                       parsed=True)


def _text(node: Any) -> str:
    return bytes(node.text or b"").decode("utf-8", errors="replace")


def _definition(kind: str, node: Any, name_node: Any) -> Definition:
    name = _text(name_node)
    parent = ""
    if "::" in name:  # C++ `Widget::draw` outside its class
        parent, _, name = name.rpartition("::")
    if kind == "impl":  # `impl Trait for Type`: the methods belong to Type
        name = re.sub(r"<.*", "", name)
    body = node.child_by_field_name("body")
    end_byte = body.start_byte if body is not None else node.end_byte
    head = bytes(node.text or b"")[: max(end_byte - node.start_byte, 0)]
    signature = _signature(head.decode("utf-8", errors="replace"), kind)
    return Definition(name, kind, node.start_point[0], node.end_point[0], signature, parent)


def _signature(head: str, kind: str) -> str:
    if kind == "constant":
        head = head.splitlines()[0] if head else head
    signature = " ".join(head.split()).rstrip("{:= ").strip()
    if len(signature) > SIGNATURE_CHARS:
        signature = signature[: SIGNATURE_CHARS - 1] + "…"
    return signature


def _nest(definitions: list[Definition]) -> list[Definition]:
    """Give each definition the container around it (a method its class)."""
    stack: list[Definition] = []
    nested: list[Definition] = []
    for definition in definitions:
        while stack and stack[-1].end_line < definition.line:
            stack.pop()
        if stack and not definition.parent and stack[-1].end_line >= definition.end_line:
            definition = attrs.evolve(definition, parent=stack[-1].name)
        if definition.kind in CONTAINERS:
            stack.append(definition)
        nested.append(definition)
    return nested


def _import_text(language: str, node: Any) -> str:
    text = _text(node).strip()
    if language in ("javascript", "typescript", "tsx", "go", "c", "cpp"):
        text = text.strip("\"'`<>")
    if language == "rust":
        text = re.sub(r"\s+", "", text)
    return text


def _python_from_import(node: Any) -> str:
    """`from a.b import c, d as e` -> "a.b:c,d"; relative modules keep their dots."""
    module = node.child_by_field_name("module_name")
    names = []
    for child in node.children_by_field_name("name"):
        if child.type == "aliased_import":
            child = child.child_by_field_name("name") or child
        names.append(_text(child))
    return f"{_text(module) if module is not None else ''}:{','.join(names)}"


def _java_import(node: Any) -> str:
    text = _text(node)
    text = re.sub(r"^\s*import\s+(static\s+)?", "", text)
    return text.rstrip("; \n")


def _references(source: bytes, root: Any, noise: Any) -> frozenset[str]:
    """Every name used in the file's code: identifiers outside its comments and strings.

    The tree finds the comments and strings (few nodes); a regular expression reads the names
    from the rest, which is many times faster than visiting every identifier node.
    """
    import tree_sitter

    spans = sorted((node.start_byte, node.end_byte) for nodes in
                   tree_sitter.QueryCursor(noise).captures(root).values() for node in nodes)
    parts = []
    position = 0
    for start, end in spans:
        if start > position:
            parts.append(source[position:start])
        position = max(position, end)
    parts.append(source[position:])
    names = set(_NAME_BYTES.findall(b" ".join(parts)))
    return frozenset(name.decode("ascii") for name in names)


# -- the fallback for everything else -------------------------------------------------------------


def _fallback_references(language: str, text: str) -> frozenset[str]:
    return frozenset(IDENTIFIER.findall(text)) if language != "markdown" else frozenset()


def _fallback(language: str, text: str, *, references: bool = True) -> FileSymbols:
    definitions: list[Definition] = []
    patterns: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]
    if language == "markdown":
        patterns = [(_HEADING, lambda m: "section")]
    else:
        patterns = [(_FALLBACK_DEFINITION,
                     lambda m: _FALLBACK_KINDS.get(m.group("kind"), m.group("kind"))),
                    (_SHELL_FUNCTION, lambda m: "function")]
    line_starts = _line_starts(text)
    for pattern, kind_of in patterns:
        for match in pattern.finditer(text):
            line = _line_of(line_starts, match.start())
            line_end = text.find("\n", match.start())
            head = text[match.start(): line_end if line_end >= 0 else len(text)]
            definitions.append(Definition(match.group("name").strip(), kind_of(match), line,
                                          line, _signature(head, "fallback")))
    definitions.sort(key=lambda d: d.line)
    names = _fallback_references(language, text) if references else frozenset()
    return FileSymbols(language, tuple(definitions), (), names, parsed=False)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1
