"""Definitions, imports and references per file: tree-sitter for the main languages, a line-based
fallback for the rest; tree-sitter loads only when parsing starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ren_lsp.context.symbols import available_grammars, extract
from tests.context_repo import FILES


def names(path: str, text: str | None = None) -> set[tuple[str, str]]:
    symbols = extract(path, FILES[path] if text is None else text)
    return {((f"{d.parent}." if d.parent else "") + d.name, d.kind) for d in symbols.definitions}


def test_every_main_grammar_loads_offline() -> None:
    assert set(available_grammars()) >= {"python", "javascript", "typescript", "tsx", "go",
                                         "rust", "java", "c", "cpp"}


@pytest.mark.parametrize(("path", "expected", "imports"), [
    ("app/billing.py", {"Invoice": "class", "Invoice.total": "function",
                        "paginate": "function"}, ("app.money:Money,round_cents",)),
    ("web/src/api.ts", {"InvoiceRow": "interface", "fetchInvoices": "function",
                        "label": "function"}, ("./format",)),
    ("web/src/components/InvoiceList.tsx", {"InvoiceList": "function"}, ("../api",)),
    ("web/src/legacy.js", {"printReceipt": "function"}, ("./format",)),
    ("server/main.go", {"main": "function"}, ("fmt", "example.com/shop/server/auth")),
    ("engine/src/parser.rs", {"Expr": "struct", "Expr.value": "function",
                              "parse_expression": "function"}, ()),
    ("engine/src/lib.rs", {"parser": "module", "evaluate": "function"},
     ("mod:parser", "crate::parser::parse_expression")),
    ("java/src/com/shop/Cart.java", {"Cart": "class", "Cart.checkout": "method"},
     ("com.shop.util.Prices",)),
    ("native/hash.c", {"fnv1a": "function"}, ("hash.h",)),
    ("native/hash.h", {"fnv1a": "prototype", "HASH_H": "macro"}, ("stdint.h",)),
    ("native/table.cpp", {"Table": "class", "Table.slot": "function"}, ("hash.h",)),
])
def test_definitions_and_imports(path: str, expected: dict[str, str],
                                 imports: tuple[str, ...]) -> None:
    symbols = extract(path, FILES[path])
    assert symbols.parsed
    found = names(path)
    assert set(expected.items()) <= found, found
    assert symbols.imports[: len(imports)] == imports or set(imports) <= set(symbols.imports)


def test_references_are_names_in_code_not_in_comments_or_strings() -> None:
    text = '# mentions helper_in_comment\ns = "helper_in_string"\nvalue = real_call(x)\n'
    refs = extract("m.py", text).references
    assert {"real_call", "value", "x", "s"} <= refs
    assert not {"helper_in_comment", "helper_in_string"} & refs


def test_signatures_stop_at_the_body() -> None:
    [definition] = extract("m.py", "def f(a: int,\n      b: str = 'x') -> bool:\n    return 1\n"
                           ).definitions
    assert definition.signature == "def f(a: int, b: str = 'x') -> bool"
    assert (definition.line, definition.end_line) == (0, 2)


def test_python_relative_imports_keep_their_dots() -> None:
    text = "from . import sibling\nfrom ..pkg.mod import a as b, c\nimport os.path as p\n"
    assert extract("x/y/m.py", text).imports == (".:sibling", "..pkg.mod:a,c", "os.path")


def test_the_fallback_reads_other_languages_and_markdown() -> None:
    ruby = extract("lib/shop.rb", "module Shop\n  class Cart\n    def total\n    end\n  end\nend\n")
    assert not ruby.parsed
    assert [(d.name, d.kind) for d in ruby.definitions] == [
        ("Shop", "module"), ("Cart", "class"), ("total", "function")]
    assert "total" in ruby.references
    markdown = extract("README.md", FILES["README.md"])
    assert [d.name for d in markdown.definitions] == ["Shop"]


def test_broken_code_still_gives_what_it_can() -> None:
    symbols = extract("m.py", "def ok():\n    pass\n\ndef broken(:\n")
    assert "ok" in {d.name for d in symbols.definitions}


def test_importing_the_engine_does_not_load_tree_sitter() -> None:
    code = ("import sys, ren_lsp.context, ren_lsp.context.index, ren_lsp.context.rank; "
            "print('tree_sitter' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"
