"""The fast first pass finds what the old one found: the same secrets' spans and kinds, the same
words, counts and kinds of file, on texts made of everything the patterns look for.

The oracle is the old implementation (``bench/first_pass_oracle.py``); ``bench/first_pass.py``
holds the same over the standard library's files.
"""

from __future__ import annotations

import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.first_pass_oracle import (
    old_comment_text,
    old_file_kind,
    old_find_secrets,
    old_lexical_fields,
)
from ren_lsp.context.kinds import file_kind
from ren_lsp.context.records import comment_text, lexical_fields
from ren_lsp.context.secrets import TOKEN_PATTERNS, find_secrets

ALNUM = string.ascii_letters + string.digits

#: a secret of every kind (among the pieces, whole)
SECRETS = ["AKIA" + "B" * 16, "ghp_" + "a" * 36, "glpat-" + "a" * 20, "xoxb-" + "a" * 10,
           "https://hooks.slack.com/services/T0/B1/" + "a" * 5, "sk_live_" + "a" * 16,
           "AIza" + "a" * 35, "npm_" + "a" * 36, "pypi-AgE" + "a" * 50, "sk-" + "a1" * 8,
           "Bearer " + "a" * 20, "eyJ" + "a" * 8 + ".eyJ" + "a" * 8 + "." + "a" * 8,
           "AccountKey=" + "a" * 40, "https://user:" + "a" * 5 + "@host",
           "aws_secret_access_key = " + "A" * 40,
           "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
           'password = "hunter22"', "DB_PASSWORD=hunter22", "token: hunter22"]

#: what the triggers, keywords and patterns look for, in several cases, and what stops them
PIECES = sorted({
    *(t for _, triggers, _ in TOKEN_PATTERNS for t in triggers),
    *(t.upper() for _, triggers, _ in TOKEN_PATTERNS for t in triggers),
    "AKIA", "ASIA", "AROA", "ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "gldt-", "glrt-",
    "xoxb-", "xoxp-", "sk_live_", "rk_test_", "pk_live_", "k_test_", "AIza", "npm_", "pypi-AgE",
    "sk-", "sk-ant-", "eyJ", "eyJhbGciOi.", "Bearer ", "bearer\t", "AccountKey=",
    "SharedAccessKey=", "https://hooks.slack.com/services/T0/B1/", "https://", "://", "@",
    "user:", "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY BLOCK-----", "PRIVATE KEY", "aws_secret_access_key", "AWS_SECRET_KEY",
    "awssecretkey", "password", "PASSWORD", "Passwd", "passphrase", "secret", "SECRET_KEY",
    "api_key", "API-KEY", "apikey", "access_key", "accesskey", "private_key", "privatekey",
    "credentials", "token", "TOKEN", "auth_token", "refresh-token", "db_password", "self.",
    " = ", "=", ": ", ":", ":=", "=>", " :", '"', "'", "`", "export ", "- ", "  ", "\t",
    " #", " ;", "${", "{%", "<", "None", "true", "str", "get_password()", "(", ")", "[", "]",
    ",", "\n", "\r\n", "\u212a", "\u0130", "\u017f", "é", "✓", "\udcff",
    "<redacted:api-key>", "<redacted:jwt:3>", "<redacted:", "123", "0x1f", "a-b", "x.y",
    *SECRETS,
})


def runs(alphabet: str) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=45)


#: a text: pieces and runs of characters, in any order
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES), runs(ALNUM), runs(ALNUM + "/+=_-."),
                           runs(string.ascii_uppercase + string.digits), runs(string.printable)),
                 max_size=40).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TEXTS)
@example("akiaws_secret_key = " + "A" * 40)  # a trigger inside another trigger's match
@example("sk_test_test_" + "a1" * 12)  # a literal inside the last match of its pattern
@example("to\u212aen = 'hunter22'")  # the Kelvin sign lower-cases to "k"
@example("\u0130 PASSWORD = 'hunter22'\nAKIA" + "B" * 16)  # "İ" lower-cases to two characters
@example("pa\u017f\u017fword = 'x' token = 'hunter22'")  # the long s matches "s" ignoring case only
def test_the_secrets_found_are_the_old_ones(text: str) -> None:
    assert find_secrets(text) == old_find_secrets(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.lists(st.sampled_from([r"redacted", r"ab+c", r"id=(\d+)", r"\w+@\w+"]),
                       max_size=2),
       st.lists(st.sampled_from(["hunter22", "abc", "token", "AKIAX"]), max_size=2))
def test_with_custom_patterns_and_known_secrets_too(text: str, patterns: list[str],
                                                    literals: list[str]) -> None:
    assert find_secrets(text, patterns, literals) == old_find_secrets(text, patterns, literals)


def test_the_generated_texts_hold_a_secret_of_every_kind() -> None:
    found = {kind for sample in SECRETS for _, _, kind in find_secrets(sample)}
    assert found == {kind for kind, _, _ in TOKEN_PATTERNS} | {"assignment"}


#: what comments, docstrings, words and generated-file headers are made of
CODE_PIECES = [
    '"""', "'''", '"', "'", "#", "/*", "*/", "//", "/", "*", "\n", " ", "\t", "x = 1", "def f():",
    "HTTPResponse", "parse_http_response", "the parsing of responses", "self.token", "é", "✓",
    "\udcff", "\u0130", "\u212a", "Code generated by protoc. DO NOT EDIT.", "@generated",
    "This file is automatically generated", "Automatically generated by x", "DO NOT EDIT",
    "do not ed\u0130t", "GENERATED", "<redacted:api-key>",
]
CODE = st.lists(st.one_of(st.sampled_from(CODE_PIECES), runs(ALNUM + "_")),
                max_size=40).map("".join)
PATHS = st.sampled_from([
    "app/billing.py", "src/lib.rs", "web/src/api.ts", "native/hash.h", "server/main.go",
    "tests/test_money.py", "docs/conf.py", "README.md", "CHANGELOG.rst", "setup.py",
    "vendor/x/y.go", "api_pb2.py", "gen/zz_generated.deep.go", "examples/demo.js",
    "config/settings.yaml", "pyproject.toml", "scripts/release.sh", "types/index.d.ts",
    "Makefile", ".gitignore", "notes", "data.json", "lib/module.rb", "a/b.c", "x.cpp",
])


@settings(max_examples=1500, deadline=None)
@given(PATHS, CODE)
@example("app/x.py", '""" a # b """ c # d\n# e """ f')  # a comment inside another
@example("a/b.c", "/* a // b */ c // d /* e\n f */")
@example("app/x.py", "x = 1 \"\"\"\"\"\" ''' # never closed")
def test_the_words_and_kinds_read_are_the_old_ones(rel: str, text: str) -> None:
    new, old = lexical_fields(rel, text, 3), old_lexical_fields(rel, text, 3)
    assert new == old
    # the same order too (what iterates over a record's terms sees them alike)
    assert [list(f.items()) for f in new if isinstance(f, dict)] == [
        list(f.items()) for f in old if isinstance(f, dict)]


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(["python", "c", "go", "toml", "dectest", ""]), CODE)
def test_the_comments_read_are_the_old_ones(language: str, text: str) -> None:
    assert comment_text(language, text) == old_comment_text(language, text)


@settings(max_examples=1500, deadline=None)
@given(PATHS, CODE)
def test_the_kind_of_file_is_the_old_one(rel: str, head: str) -> None:
    assert file_kind(rel, head) == old_file_kind(rel, head)
