"""A small workspace in several languages that the context tests write for themselves: code that
imports code, files every rule must leave out, secret files, and a secret inside a file that is
sent."""

from __future__ import annotations

import subprocess
from pathlib import Path

#: what must never reach the context, whatever the ranking
SECRET_VALUES = ("hunter2-very-secret", "AKIAZZZZZZZZZZZZZZZZ",
                 "ghp_0123456789abcdefghijABCDEFGHIJ012345", "sk-live-notreally-123456789",
                 "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
#: text only ignored, excluded or secret files contain
LEFT_OUT_MARKERS = ("LEFT_PAD_MARKER", "BUILD_OUTPUT_MARKER", "GENERATED_MARKER", "LOG_MARKER",
                    "PRIVATE_NOTES_MARKER", "LOCKFILE_MARKER", "MINIFIED_MARKER", "BIG_MARKER")

FILES: dict[str, str] = {
    "app/__init__.py": "",
    "app/money.py": '''"""Money amounts in cents."""


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents


def round_cents(amount: float) -> int:
    """Round a fractional amount to whole cents, half up."""
    return int(amount + 0.5)
''',
    "app/billing.py": '''"""Invoices."""

from app.money import Money, round_cents


class Invoice:
    def __init__(self, lines):
        self.lines = lines

    def total(self) -> Money:
        amount = sum(line.price * line.quantity for line in self.lines)
        return Money(round_cents(amount))


def paginate(items, cursor=None, size=50):
    start = 0 if cursor is None else cursor
    return items[start:start + size], start + size
''',
    "app/cli.py": '''from app.billing import Invoice


def main(argv):
    invoice = Invoice([])
    print(invoice.total())
''',
    "app/storage.py": '''import sqlite3


def save_invoice(invoice, path):
    with sqlite3.connect(path) as db:
        db.execute("insert into invoices values (?)", (invoice.total().cents,))
''',
    "app/reports.py": '''from app.billing import paginate


def monthly_report(invoices):
    page, _ = paginate(invoices)
    return page
''',
    "app/settings.py": '''DATABASE = "postgres://shop@db/shop"
DB_PASSWORD = "hunter2-very-secret"
AWS_ACCESS_KEY_ID = "AKIAZZZZZZZZZZZZZZZZ"


def database_url():
    return DATABASE
''',
    "tests/test_billing.py": '''from app.billing import Invoice


def test_empty_invoice_totals_zero():
    assert Invoice([]).total().cents == 0
''',
    "web/src/format.ts": '''export function formatPrice(cents: number, currency = "EUR"): string {
  return new Intl.NumberFormat("de-DE", { style: "currency", currency }).format(cents / 100);
}
''',
    "web/src/api.ts": '''import { formatPrice } from "./format";

export interface InvoiceRow { id: string; cents: number }

export async function fetchInvoices(base: string): Promise<InvoiceRow[]> {
  const reply = await fetch(`${base}/invoices`);
  return (await reply.json()) as InvoiceRow[];
}

export const label = (row: InvoiceRow) => `${row.id}: ${formatPrice(row.cents)}`;
''',
    "web/src/components/InvoiceList.tsx": '''import { fetchInvoices, label } from "../api";

export function InvoiceList({ base }: { base: string }) {
  return <ul>{[].map((row) => <li>{label(row)}</li>)}</ul>;
}
''',
    "web/src/legacy.js": '''const { formatPrice } = require("./format");

function printReceipt(rows) {
  return rows.map((row) => formatPrice(row.cents)).join("\\n");
}
module.exports = { printReceipt };
''',
    "server/main.go": '''package main

import (
\t"fmt"

\t"example.com/shop/server/auth"
)

func main() {
\tfmt.Println(auth.CheckToken("abc"))
}
''',
    "server/auth/token.go": '''package auth

import "strings"

// CheckToken tells whether a bearer token has the shape the shop issues.
func CheckToken(token string) bool {
\treturn strings.HasPrefix(token, "shop_") && len(token) == 37
}
''',
    "engine/src/lib.rs": '''mod parser;

use crate::parser::parse_expression;

pub fn evaluate(source: &str) -> i64 {
    parse_expression(source).value()
}
''',
    "engine/src/parser.rs": '''pub struct Expr { value: i64 }

impl Expr {
    pub fn value(&self) -> i64 { self.value }
}

pub fn parse_expression(input: &str) -> Expr {
    Expr { value: input.trim().parse().unwrap_or(0) }
}
''',
    "java/src/com/shop/Cart.java": '''package com.shop;

import com.shop.util.Prices;

public class Cart {
    private long cents;

    public long checkout() {
        return Prices.applyDiscount(cents, 10);
    }
}
''',
    "java/src/com/shop/util/Prices.java": '''package com.shop.util;

public final class Prices {
    public static long applyDiscount(long cents, int percent) {
        return cents - cents * percent / 100;
    }
}
''',
    "native/hash.h": '''#ifndef HASH_H
#define HASH_H
#include <stdint.h>
uint32_t fnv1a(const char *data, unsigned long length);
#endif
''',
    "native/hash.c": '''#include "hash.h"

uint32_t fnv1a(const char *data, unsigned long length) {
    uint32_t hash = 2166136261u;
    for (unsigned long i = 0; i < length; i++) {
        hash ^= (unsigned char)data[i];
        hash *= 16777619u;
    }
    return hash;
}
''',
    "native/table.cpp": '''#include "hash.h"

class Table {
 public:
  unsigned slot(const char *key, unsigned long n) const { return fnv1a(key, n) % 64; }
};
''',
    "README.md": "# Shop\n\nA small shop: invoices, prices and tokens.\n",
    # left out by the rules
    ".gitignore": "generated/\n*.log\n",
    ".renignore": "docs/private/\n",
    "generated/schema.py": "GENERATED_MARKER = 1\n",
    "debug.log": "LOG_MARKER invoices\n",
    "docs/private/notes.md": "PRIVATE_NOTES_MARKER invoices\n",
    "node_modules/left-pad/index.js": "module.exports = 'LEFT_PAD_MARKER';\n",
    "build/out.js": "var BUILD_OUTPUT_MARKER = 1;\n",
    "package-lock.json": '{"LOCKFILE_MARKER": true}\n',
    "web/vendor.min.js": "var MINIFIED_MARKER=1;" + "x=1;" * 3000 + "\n",
    "big.txt": "BIG_MARKER invoices\n" * 60_000,
    # secret files: never read
    ".env": "REN_API_KEY=sk-live-notreally-123456789\nDB_PASSWORD=hunter2-very-secret\n",
    "config/credentials.json": '{"token": "ghp_0123456789abcdefghijABCDEFGHIJ012345"}\n',
    "deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
                     "-----END OPENSSH PRIVATE KEY-----\n",
    "certs/server.pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
                        "-----END PRIVATE KEY-----\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n",
}

#: binary: a NUL byte early on
BINARY = {"web/logo.png": b"\x89PNG\r\n\x1a\n\0\0\0LOGO", "data/blob.dat": b"abc\0def invoices"}

#: the files the index must hold, and only these (the workspace's readable files)
READABLE = sorted(
    [p for p in FILES if p.split("/")[0] in {"app", "tests", "web", "server", "engine", "java",
                                             "native"} and not p.endswith(".min.js")]
    + ["README.md", ".gitignore", ".renignore"])
#: what a listing holds: the readable files and a binary file only reading can tell
LISTED = sorted([*READABLE, "data/blob.dat"])


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null",
                        "HOME": str(root), "PATH": "/usr/bin:/bin:/usr/local/bin"})


def write_repo(root: Path, *, use_git: bool) -> Path:
    """Write the workspace under ``root``; with ``use_git``, a repository with one commit and an
    untracked (not ignored) file."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for rel, data in BINARY.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "add", "-f", ".env")  # a secret file that is tracked anyway
        git(root, "reset", "-q", "app/reports.py")  # untracked, not ignored: still listed
        git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
            "-m", "shop")
    return root
