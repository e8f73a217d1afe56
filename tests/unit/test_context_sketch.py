"""The sketch a large build makes of each file (``sketch.py``) finds what a parse finds: the
definitions' names and lines, and the imports in the parse's own forms."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.context.sketch import sketch
from ren_lsp.context.symbols import extract, language_of

SAMPLES = {
    "a.py": '''"""A module.

    class NotReal:  # an example in a docstring defines nothing
    from nowhere import nothing
"""
from __future__ import annotations

import os, sys as system
from .money import (round_cents,  # rounding
                    Currency)
from . import helpers
from pkg.sub import *

LIMIT: int = 3
NAMES = ["a"]
__version__: str


class Ledger(Base):
    """Entries."""

    QUOTES = ('"""', "\'\'\'")

    def post(self, amount):
        def inner():
            return 1
        return inner()

    async def fetch(self):
        pass


async def main():
    if LIMIT == 3:
        pass
''',
    "b.ts": '''import { format } from "./format";
import type { Money } from './money';
import "./side-effect";
export { total } from "./totals";
const legacy = require("./legacy");

export interface Invoice { id: string }
export type Cents = number;
export enum Kind { A, B }
export const TAX = 0.2;
const render = (value: number): string => format(value);
export default function paginate(cursor: string) { return cursor; }

export class Client extends Base {
  constructor(private url: string) { super(); }
  async fetchInvoices(page: number): Promise<Invoice[]> {
    if (page) { return []; }
    return [];
  }
}
''',
    "c.go": '''package shop

import "fmt"

import (
\t"strings"
\tauth "example.com/shop/auth"
)

const Limit = 3

type Ledger struct {
\tentries []int
}

func (l *Ledger) Post(amount int) int {
\treturn amount
}

func Total(lines []int) int {
\tfmt.Println(strings.Repeat("x", 1), auth.Token)
\treturn 0
}
''',
    "d.rs": '''use std::collections::HashMap;
use crate::money::{round_cents, Currency};
mod billing;

pub struct Ledger { entries: Vec<i64> }
pub enum Kind { A, B }
pub trait Post {
    fn post(&self, amount: i64) -> i64;
}
impl Post for Ledger {
    fn post(&self, amount: i64) -> i64 { amount }
}
pub fn total(lines: &[i64]) -> i64 { lines.iter().sum() }
macro_rules! cents { ($x:expr) => { $x * 100 }; }
const LIMIT: i64 = 3;
''',
    "E.java": '''package com.shop;

import java.util.List;
import static java.lang.Math.round;

public class Prices {
    public static long roundCents(double amount) {
        return round(amount * 100);
    }

    private List<String> names(int count) {
        return List.of();
    }
}

interface Priced {
    long price();
}
''',
    "f.h": '''#include <stdint.h>
#include "table.h"

#define SLOTS 64

typedef struct Entry {
  const char *key;
} Entry;

uint32_t fnv1a(const char *key, unsigned long n);
''',
}


def parsed(rel: str, text: str) -> tuple[Counter[str], Counter[str]]:
    found = extract(rel, text, references=False)
    return Counter(d.name for d in found.definitions), Counter(found.imports)


def sketched(rel: str, text: str) -> tuple[Counter[str], Counter[str]]:
    result = sketch(language_of(rel), text)
    assert result is not None
    definitions, imports = result
    return Counter(d[0] for d in definitions), Counter(imports)


@pytest.mark.parametrize("rel", sorted(SAMPLES))
def test_the_sketch_finds_what_a_parse_finds(rel: str) -> None:
    assert sketched(rel, SAMPLES[rel]) == parsed(rel, SAMPLES[rel])


def test_sketched_definitions_have_their_lines_and_one_line_signatures() -> None:
    text = SAMPLES["a.py"]
    result = sketch("python", text)
    assert result is not None
    by_name = {d[0]: d for d in result[0]}
    lines = text.splitlines()
    for name in ("Ledger", "post", "inner", "fetch", "main", "LIMIT"):
        _, _, line, end, signature, parent = by_name[name]
        assert name in lines[line] and end == line and parent == ""
        assert signature == lines[line].strip().rstrip("{:= ")[:160] or name == "LIMIT"
    assert "NotReal" not in by_name and "QUOTES" not in by_name  # a docstring; not top level


def test_a_language_the_sketch_does_not_know_is_left_to_the_parser() -> None:
    assert sketch("markdown", "# Title\n") is None and sketch("shell", "f() { :; }\n") is None


# Python modules built from statements of every kind the sketch reads, in any order and
# nesting: the sketch's names and imports are the parse's.
_NAME = st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda n: n not in {"if", "in", "is", "or", "as", "def", "for", "and", "not", "del", "try",
                        "else", "from", "with", "pass", "class", "while", "async", "await",
                        "import", "lambda", "return", "global", "yield", "raise", "break",
                        "elif", "match", "case", "type", "finally", "except", "assert",
                        "continue", "nonlocal", "None", "True", "False"})


@st.composite
def _statement(draw: st.DrawFn, depth: int = 0) -> list[str]:
    kind = draw(st.sampled_from(["def", "async", "class", "assign", "annotated", "import",
                                 "from", "docstring", "call"]))
    name = draw(_NAME)
    if kind in ("def", "async", "class") and depth < 2:
        head = {"def": f"def {name}(x):", "async": f"async def {name}():",
                "class": f"class {name}:"}[kind]
        body = [line for _ in range(draw(st.integers(1, 3)))
                for line in draw(_statement(depth + 1))]
        return [head, *("    " + line for line in body)]
    if kind == "assign":
        return [f"{name} = {draw(st.integers(0, 9))}"]
    if kind == "annotated":
        return [f"{name}: int = 1"]
    if kind == "import":
        return [f"import {name}.{draw(_NAME)} as {draw(_NAME)}"]
    if kind == "from":
        names = draw(st.lists(_NAME, min_size=1, max_size=3))
        return [f"from .{name} import ({', '.join(names)})"]
    if kind == "docstring":
        return ['"""', f"def {name}_in_text(): pass", f"class {name}_in_text:", '"""']
    return [f"{name}(1)"]


@settings(max_examples=150, deadline=None)
@given(st.lists(_statement(), min_size=1, max_size=8))
def test_on_any_python_module_the_sketch_names_what_a_parse_names(
        statements: list[list[str]]) -> None:
    text = "\n".join(line for statement in statements for line in statement) + "\n"
    assert sketched("m.py", text) == parsed("m.py", text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,20}", fullmatch=True), max_size=12))
def test_the_names_field_of_a_sketch_is_name_terms(names: list[str]) -> None:
    from ren_lsp.context.records import _names
    from ren_lsp.context.terms import name_terms

    assert list(_names(names).items()) == list(name_terms(names).items())


ADVERSARIAL = [("go", "const (\n"), ("go", "import (\n"), ("rust", "use a\n"), ("c", "typedef a\n"),
               ("c", "x f(a) b\n"), ("java", "  a b(\n"), ("python", "from a import (b\n"),
               ("python", 'a"""'), ("python", "x def a "), ("javascript", "export const a: b "),
               ("typescript", "type A" + " " * 16_000 + "x\n"),
               ("typescript", "  foo" + " " * 16_000),
               ("typescript", "  foo(): " + " " * 16_000 + "x\n"),
               ("rust", "impl" + " " * 4_000 + "(\n")]


def test_unclosed_blocks_and_endless_lines_are_sketched_without_a_hang() -> None:
    """Blocks never closed, and one line of 200 KB, once made the sketch quadratic (minutes
    for one file, a build that never ended): every search is bounded now. A guard against a
    hang (a generous deadline in a child process), not a timing."""
    import subprocess
    import sys

    script = ("import sys\nfrom ren_lsp.context.sketch import sketch\n"
              f"for language, unit in {ADVERSARIAL!r}:\n"
              "    sketch(language, unit * (200_000 // len(unit)))\nprint('done')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "done"
