"""Redaction of secrets from text that is about to be sent: every kind, wherever it sits."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ren_lsp.context import redact
from ren_lsp.context.secrets import find_secrets

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits


def token(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


#: (kind, a strategy for a secret of that kind as it appears in text, the part that must go)
SECRETS: list[st.SearchStrategy[tuple[str, str]]] = [
    token(UPPER_DIGITS, 16).map(lambda t: ("AKIA" + t, "AKIA" + t)),
    token(ALNUM, 36).map(lambda t: ("ghp_" + t, "ghp_" + t)),
    token(ALNUM + "_", 40).map(lambda t: ("github_pat_" + t, "github_pat_" + t)),
    token(ALNUM, 24).map(lambda t: ("glpat-" + t, "glpat-" + t)),
    token(ALNUM, 24).map(lambda t: ("xoxb-" + t, "xoxb-" + t)),
    token(ALNUM, 24).map(lambda t: ("sk_live_" + t, "sk_live_" + t)),
    token(ALNUM, 35).map(lambda t: ("AIza" + t, "AIza" + t)),
    token(ALNUM, 36).map(lambda t: ("npm_" + t, "npm_" + t)),
    token(ALNUM, 30).map(lambda t: ("sk-ant-api03-" + t + "9", "sk-ant-api03-" + t + "9")),
    token(ALNUM, 20).map(lambda t: (f"eyJhbGciOi{t}.eyJzdWIi{t}.{t}",
                                    f"eyJhbGciOi{t}.eyJzdWIi{t}.{t}")),
    token(ALNUM, 12).map(lambda t: (f"https://deploy:{t}@git.example.com/x", t)),
    token(ALNUM, 10).map(lambda t: (f'password = "{t}"', t)),
    token(ALNUM, 10).map(lambda t: (f"db_password: str = '{t}'", t)),
    token(ALNUM, 10).map(lambda t: (f'connect(api_key="{t}", timeout=3)', t)),
    token(ALNUM, 10).map(lambda t: (f'{{"client_secret": "{t}"}}', t)),
    token(ALNUM, 10).map(lambda t: (f"DB_PASSWORD={t}", t)),
    token(ALNUM, 10).map(lambda t: (f"export API_TOKEN={t}", t)),
    token(ALNUM, 10).map(lambda t: (f"  password: {t}", t)),
    token(ALNUM, 30).map(lambda t: (f"Authorization: Bearer {t}", t)),
    token(ALNUM + "/+", 40).map(lambda t: (f"aws_secret_access_key = {t}", t)),
    token(ALNUM, 64).map(lambda t: (
        f"-----BEGIN RSA PRIVATE KEY-----\n{t}\n{t}\n-----END RSA PRIVATE KEY-----", t)),
]

#: surrounding code that holds no secret
FILLER = st.lists(st.sampled_from([
    "def total(self):", "    return sum(self.lines)", "# compute the password hash", "",
    "x = 1", "const url = `${base}/invoices`;", "token = next(tokens)", "key = (a, b)",
    'print("Enter your password:")', "password = getpass()", "    if token.kind == NAME:",
]), max_size=6).map("\n".join)


@given(before=FILLER, secret=st.one_of(SECRETS), after=FILLER)
def test_every_kind_of_secret_is_redacted_wherever_it_sits(
        before: str, secret: tuple[str, str], after: str) -> None:
    line, value = secret
    text = f"{before}\n{line}\n{after}"
    redacted, count = redact(text)
    assert value not in redacted
    assert count >= 1
    assert "<redacted:" in redacted
    assert redacted.count("\n") == text.count("\n")  # line numbers stay true


@given(text=FILLER)
def test_code_without_secrets_is_left_alone(text: str) -> None:
    assert redact(text) == (text, 0)


@given(before=FILLER, secret=st.one_of(SECRETS), after=FILLER)
def test_redaction_is_idempotent(before: str, secret: tuple[str, str], after: str) -> None:
    once, _ = redact(f"{before}\n{secret[0]}\n{after}")
    assert redact(once) == (once, 0)


@given(st.text(max_size=300))
def test_any_text_redacts_without_error_and_keeps_its_lines(text: str) -> None:
    redacted, count = redact(text)
    assert redacted.count("\n") == text.count("\n")
    assert (count == 0) == (redacted == text)


def test_a_cut_private_key_block_is_redacted_to_the_end() -> None:
    text = "KEY = '''\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\nAAAB"
    redacted, count = redact(text)
    assert count == 1 and "b3BlbnNzaC1" not in redacted and "AAAB" not in redacted


@pytest.mark.parametrize("text", [
    'password = "Enter password"',     # a prompt, with spaces
    'password = ""',                   # empty
    "password = get_password()",       # code, not a literal
    'credentials = "{0}:{1}".format(user, passwd)',
    'PASSWORD = "${DB_PASSWORD}"',     # a reference to the environment
    "token = tokens[0]",
    "sk-learn-style-names-without-digits",
])
def test_look_alikes_are_not_redacted(text: str) -> None:
    assert redact(text) == (text, 0)


def test_more_patterns_from_the_setting() -> None:
    text = 'acme = "ACME-0123456789ABCDEF"\ninternal_token = "zzz top"\n'
    redacted, count = redact(text, ["ACME-[0-9A-F]{16}", r'internal_token = "([^"]+)"'])
    assert count == 2
    assert "ACME-0123" not in redacted and "zzz top" not in redacted
    assert 'internal_token = "<redacted:custom>"' in redacted


@given(secret=st.one_of(SECRETS))
def test_spans_do_not_overlap(secret: tuple[str, str]) -> None:
    text = f"{secret[0]} {secret[0]}"
    spans = find_secrets(text)
    assume(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
