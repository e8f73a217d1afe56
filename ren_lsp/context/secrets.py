"""Redaction of high-confidence secrets from text that is about to leave the machine.

Only patterns that are nearly always secrets are redacted, so that code keeps its meaning:

- private key blocks (``-----BEGIN … PRIVATE KEY-----`` to its END line, or to the end of the
  text when the block was cut);
- cloud and forge tokens by their documented shapes: AWS access key ids and secret keys, GitHub,
  GitLab, Slack, Stripe, Google, npm, PyPI, OpenAI / Anthropic / Ren style ``sk-`` keys, JSON Web
  Tokens, Azure storage account keys, Slack webhooks, ``Bearer`` tokens;
- passwords in URLs (``scheme://user:password@host``);
- ``password = "…"`` style assignments: a quoted literal without spaces assigned to a name that
  says password, passphrase, secret, api key, access key, private key, client secret or token
  (``KEY=value`` and ``key: value`` lines too, as in env, shell and YAML files).

The ``secretPatterns`` setting adds regular expressions; what they match is redacted whole, or
only group 1 when the pattern has a group. A redaction keeps the text's line count, so line
numbers stay true.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

MARK = "<redacted:{}>"

#: Names whose quoted value is a secret: db_password, API_KEY, self.client_secret, …
_STRONG = (
    r"pass(?:word|wd|phrase)|secret|secret[_-]?key|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?access[_-]?key|private[_-]?key|client[_-]?secret|credentials?"
    r"|(?:auth|access|refresh|bearer|api|session)[_-]?token"
)
_NAME = rf"(?i:{_STRONG})"
_ANNOTATION = r"(?:[ \t]*:[ \t]*[\w.\[\]| ,]+?)?"  # password: str = "…"
_OP = r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
_VALUE = r"[^\s#()\[\]{},;]{4,}"
#: lower-case words that must occur on a line for the assignment patterns to be tried there
_KEYWORDS = re.compile(r"pass(?:word|wd|phrase)|secret|api[_-]?key|apikey|access[_-]?key"
                       r"|private[_-]?key|credential|token")

#: (kind, lower-case substrings one of which the text must contain, pattern). A pattern with
#: groups redacts only its first group that matched.
TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("private-key", ("private key",),
     r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
     r"(?s:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)"),
    ("aws-access-key-id", ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "anpa"),
     r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),
    ("aws-secret-key", ("aws",),
     r"(?i:aws_?secret_?(?:access_?)?key)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})"
     r"(?![A-Za-z0-9/+])"),
    ("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
     r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ("gitlab-token", ("glpat-", "gldt-", "glptt-", "glrt-"), r"\bgl(?:pat|dt|ptt|rt)-[\w-]{20,}"),
    ("slack-token", ("xox",), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("slack-webhook", ("hooks.slack.com",),
     r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/\w+"),
    ("stripe-key", ("_live_", "_test_"), r"\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("google-api-key", ("aiza",), r"\bAIza[0-9A-Za-z_-]{35}"),
    ("npm-token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi-token", ("pypi-age",), r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    ("api-key", ("sk-",), r"\bsk-(?=[\w-]*\d)[A-Za-z0-9_-]{16,}"),
    ("bearer-token", ("bearer",), r"\b(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]{20,}=*)"),
    ("jwt", ("eyj",), r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("azure-key", ("accountkey", "sharedaccesskey"),
     r"(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,}={0,2})"),
    ("url-password", ("://",), r"://[^\s:/@\"'<>]+:([^\s@/\"'<>]{3,})@[\w.-]+"),
)

_TRIGGERS = re.compile("|".join(sorted(
    {re.escape(t) for _, triggers, _ in TOKEN_PATTERNS for t in triggers}, key=len, reverse=True)))

#: Tried on the lines that contain one of _KEYWORDS.
ASSIGNMENT_PATTERNS: tuple[str, ...] = (
    # password = "hunter22", "api_key": 'abc…', connect(password="…"), password: str = "…"
    rf"{_NAME}{_ANNOTATION}{_OP}(?![\"'`][{{%$<])"
    r"(?:\"([^\"\s]{4,})\"|'([^'\s]{4,})'|`([^`\s]{4,})`)",
    # DB_PASSWORD=hunter22 (env, shell) at the start of a line, no spaces around "="
    rf"(?m:^[ \t]*(?:export[ \t]+)?[\w.-]*{_NAME}=(?![\"'`$<{{%])({_VALUE})[ \t]*$)",
    # password: hunter22 (YAML, INI with a colon)
    rf"(?m:^[ \t]*[\w.-]*{_NAME}:[ \t]+(?![\"'`$<{{%&*!|>]|(?i:true|false|null|none|str)\b)"
    rf"({_VALUE})[ \t]*$)",
)


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def check_pattern(pattern: str) -> None:
    """Raise ValueError when ``pattern`` is not a usable regular expression for redaction."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    if compiled.match(""):
        raise ValueError("matches empty text")


def _span(match: re.Match[str]) -> tuple[int, int]:
    """The secret in a match: its first group that matched, else all of it."""
    for group in range(1, (match.re.groups or 0) + 1):
        if match.group(group) is not None:
            return match.span(group)
    return match.span()


def find_secrets(text: str, extra_patterns: Sequence[str] = ()) -> list[tuple[int, int, str]]:
    """Where the secrets in ``text`` are: sorted, non-overlapping ``(start, end, kind)``."""
    lower = text.lower()
    if len(lower) != len(text):  # a few characters lower-case to two; keep offsets aligned
        lower = text.encode("ascii", "replace").decode("ascii").lower()
    found: list[tuple[int, int, str]] = []
    present = set(_TRIGGERS.findall(lower))
    for kind, triggers, pattern in TOKEN_PATTERNS:
        if present.intersection(triggers):
            found.extend((*_span(m), kind) for m in _compile(pattern).finditer(text))
    seen_lines: set[int] = set()
    for hit in _KEYWORDS.finditer(lower):
        line_start = text.rfind("\n", 0, hit.start()) + 1
        if line_start in seen_lines:
            continue
        seen_lines.add(line_start)
        line_end = text.find("\n", hit.end())
        line_end = len(text) if line_end < 0 else line_end
        for pattern in ASSIGNMENT_PATTERNS:
            found.extend((*_span(m), "assignment")
                         for m in _compile(pattern).finditer(text, line_start, line_end))
    for pattern in extra_patterns:
        found.extend((*_span(m), "custom") for m in _compile(pattern).finditer(text))
    found.sort(key=lambda span: (span[0], -span[1]))
    merged: list[tuple[int, int, str]] = []
    for start, end, kind in found:
        if end <= start:
            continue
        if merged and start < merged[-1][1]:
            if end > merged[-1][1]:  # overlapping: one redaction covers both
                merged[-1] = (merged[-1][0], end, merged[-1][2])
            continue
        merged.append((start, end, kind))
    return merged


def redact(text: str, extra_patterns: Sequence[str] = ()) -> tuple[str, int]:
    """``text`` with every high-confidence secret replaced by ``<redacted:kind>``, and how many.

    Newlines inside a redacted secret are kept, so the text's line count does not change.
    """
    spans = find_secrets(text, extra_patterns)
    if not spans:
        return text, 0
    parts: list[str] = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(MARK.format(kind) + "\n" * text.count("\n", start, end))
        position = end
    parts.append(text[position:])
    return "".join(parts), len(spans)
