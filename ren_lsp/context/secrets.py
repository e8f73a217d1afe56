"""Redaction of high-confidence secrets from text that is about to leave the machine.

Only patterns that are nearly always secrets are redacted, so that code keeps its meaning:

- private key blocks (``-----BEGIN … PRIVATE KEY-----`` to its END line, or to the end of the
  text when the block was cut);
- cloud and forge tokens by their documented shapes: AWS access key ids and secret keys, GitHub,
  GitLab, Slack, Stripe, Google, npm, PyPI, OpenAI / Anthropic / Ren style ``sk-`` keys, JSON Web
  Tokens, Azure storage account keys, Slack webhooks, ``Bearer`` tokens;
- passwords in URLs (``scheme://user:password@host``);
- key-value secrets in code and in the usual config syntaxes (INI, YAML, TOML, ``.properties``,
  env files, JSON), quoted or not: a value assigned to a name that says password, passphrase,
  secret, api key, access key, private key, client secret, credentials or token
  (``password = "…"``, ``"api_key": "…"``, ``SECRET_KEY=…``, ``token: …``,
  ``password = ini-PWINI-123``). An unquoted value that reads as code (``get_password()``,
  ``self.token``, ``None``, a plain name without digits, a number, ``${VAR}``) is left alone.

The ``secretPatterns`` setting adds regular expressions; what they match is redacted whole, or
only group 1 when the pattern has a group. A redaction keeps the text's line count, so line
numbers stay true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache

from ahocorasick_rs import BytesAhoCorasick, MatchKind

MARK = "<redacted:{}>"
#: a redaction mark: ``<redacted:kind>``, or a session's numbered ``<redacted:kind:3>``
PLACEHOLDER = re.compile(r"<redacted:[a-z0-9-]+(?::\d+)?>")

#: Names whose value is a secret: db_password, API_KEY, self.client_secret, token, …
_STRONG = (
    r"pass(?:word|wd|phrase)|secret|secret[_-]?key|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?access[_-]?key|private[_-]?key|client[_-]?secret|credentials?"
    r"|(?:auth|access|refresh|bearer|api|session)[_-]?token|token"
)
_NAME = rf"(?i:{_STRONG})"
_ANNOTATION = r"(?:[ \t]*:[ \t]*[\w.\[\]| ,]+?)?"  # password: str = "…"
_OP = r"[\"']?[ \t]*(?::=|=>|[:=])[ \t]*"
_VALUE = r"[^\s()\[\]{},;]{4,}"
#: a key at the start of a line: a YAML list item, ``export``, a quoted or dotted key
_KEY = r"^[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?[\"']?[\w.-]*"
#: a comment after a value (YAML, shell and env ``#``, INI ``;``), with a space before it
_COMMENT = r"(?:[ \t]+[#;].*)?[ \t]*$"
#: lower-case words one of which must occur on a line for the assignment patterns to be tried
_KEYWORDS = ("password", "passwd", "passphrase", "secret", "api_key", "api-key", "apikey",
             "access_key", "access-key", "accesskey", "private_key", "private-key", "privatekey",
             "credential", "token")

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

#: Which patterns a text triggers is read in one pass by a leftmost-first Aho-Corasick
#: automaton (SIMD, several times faster than a regular expression's alternation): the
#: triggers longest first, the order the alternation ``a|b|…`` of the same words would try them,
#: so the triggers seen are the same as that alternation's ``findall`` would give.
_TRIGGERS = sorted({t for _, triggers, _ in TOKEN_PATTERNS for t in triggers}, key=len,
                   reverse=True)
_TRIGGER_FINDER = BytesAhoCorasick([t.encode() for t in _TRIGGERS],
                                   matchkind=MatchKind.LeftmostFirst)
#: a line that holds one of _KEYWORDS holds a match this finder reports (one it skips lies
#: inside a match it reports, on the same line)
_KEYWORD_FINDER = BytesAhoCorasick([w.encode() for w in _KEYWORDS],
                                   matchkind=MatchKind.LeftmostFirst)
#: The case-sensitive patterns that start with ``\b`` (where ``re`` tries the pattern at every
#: position of the text): the literals one of which stands at a match's start plus an offset.
#: They are tried only where such a literal is (the same matches, in the same order).
_ANCHORS: dict[str, tuple[int, tuple[str, ...]]] = {
    "aws-access-key-id": (0, ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA")),
    "github-token": (0, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    "gitlab-token": (0, ("glpat-", "gldt-", "glptt-", "glrt-")),
    "slack-token": (0, ("xox",)), "stripe-key": (1, ("k_live_", "k_test_")),
    "google-api-key": (0, ("AIza",)), "npm-token": (0, ("npm_",)),
    "pypi-token": (0, ("pypi-AgE",)), "api-key": (0, ("sk-",)), "jwt": (0, ("eyJ",)),
}

#: An unquoted value that reads as code, not as a secret: a name without digits (``None``,
#: ``API_KEY``, ``password``), an attribute chain (``self.token``), a number.
_CODE_VALUE = re.compile(r"[A-Za-z_$]+|[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+"
                         r"|[-+]?\d[\d_.]*(?:[eE][-+]?\d+)?|0[xXoObB][\da-fA-F_]+")
#: characters an unquoted secret does not start with: references, templates, YAML tags, …
_NOT_FIRST = set("\"'`$<{%&*!|>@~\\:=")


def _unquoted_secret(value: str) -> bool:
    """Whether an unquoted value after ``password =`` is a literal secret rather than code."""
    if value[0] in _NOT_FIRST or value[-1] in ",;\\" or _CODE_VALUE.fullmatch(value):
        return False
    return not any(c in value for c in "()[]{}\"'`") and "::" not in value and "->" not in value


#: Tried on the lines that contain one of _KEYWORDS: (pattern, whether what it matched must
#: pass ``_unquoted_secret``).
ASSIGNMENT_PATTERNS: tuple[tuple[str, bool], ...] = (
    # password = "hunter22", "api_key": 'abc…', connect(password="…"), password: str = "…"
    (rf"{_NAME}{_ANNOTATION}{_OP}(?![\"'`][{{%$<])"
     r"(?:\"([^\"\s]{4,})\"|'([^'\s]{4,})'|`([^`\s]{4,})`)", False),
    # DB_PASSWORD=hunter22 (env, shell, .properties) at the start of a line, no spaces at "="
    (rf"(?m:{_KEY}{_NAME}=(?![\"'`$<{{%])({_VALUE}){_COMMENT})", False),
    # password: hunter22 (YAML, INI and .properties with a colon)
    (rf"(?m:{_KEY}{_NAME}[\"']?:[ \t]+(?![\"'`$<{{%&*!|>]|(?i:true|false|null|none|str)\b)"
     rf"({_VALUE}){_COMMENT})", False),
    # password = ini-PWINI-123 (INI, TOML, .properties), unless the value reads as code
    (rf"(?m:{_KEY}{_NAME}[\"']?(?:[ \t]*(?::=|=)[ \t]*|[ \t]+:[ \t]*)(\S{{4,}}){_COMMENT})",
     True),
)


@lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


#: TOKEN_PATTERNS as (kind, the indexes of its triggers in _TRIGGERS, pattern, anchor); the
#: patterns are compiled when first needed (importing stays cheap)
_TOKENS = tuple((kind, frozenset(map(_TRIGGERS.index, triggers)), pattern, _ANCHORS.get(kind))
                for kind, triggers, pattern in TOKEN_PATTERNS)
#: ASSIGNMENT_PATTERNS with whether the pattern is anchored at a line's start
_ASSIGNMENTS = tuple((pattern, checked, pattern.startswith("(?m:^"))
                     for pattern, checked in ASSIGNMENT_PATTERNS)


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


def _lower_ascii(text: str) -> bytes:
    """``text.lower()`` as bytes of ``text``'s length, what is not ASCII as ``?``: where the
    triggers and keywords (all ASCII) are, at their offsets in ``text``."""
    # Only two characters lower-case to ASCII: the Kelvin sign (to "k") and "İ" (to two, so
    # that a text holding it is lower-cased as ASCII to keep its offsets).
    if "\u212a" in text and "\u0130" not in text:
        return text.lower().encode("ascii", "replace")
    return text.encode("ascii", "replace").lower()


def _anchored(compiled: re.Pattern[str], text: str, offset: int,
              literals: tuple[str, ...]) -> Iterator[re.Match[str]]:
    """``compiled.finditer(text)`` for a pattern each match of which has one of ``literals`` at
    its start plus ``offset``: tried only there, in order, each after the last match's end."""
    starts: set[int] = set()
    for literal in literals:
        at = text.find(literal, offset)
        while at >= 0:
            starts.add(at - offset)
            at = text.find(literal, at + 1)
    position = 0
    for start in sorted(starts):
        if start >= position:
            match = compiled.match(text, start)
            if match is not None:
                position = match.end()
                yield match


def _may_assign(text: str, start: int, end: int) -> bool:
    """Whether the line ``text[start:end]`` has what an assignment of a quoted value needs: a
    ``:`` or ``=`` and a quote."""
    return (text.find("=", start, end) >= 0 or text.find(":", start, end) >= 0) and (
        text.find('"', start, end) >= 0 or text.find("'", start, end) >= 0
        or text.find("`", start, end) >= 0)


def find_secrets(text: str, extra_patterns: Sequence[str] = (),
                 literals: Sequence[str] = ()) -> list[tuple[int, int, str]]:
    """Where the secrets in ``text`` are: sorted, non-overlapping ``(start, end, kind)``.

    ``literals`` are values known to be secret (the API key, a forge token), found verbatim.
    What lies inside a redaction mark already there is left alone, so redacting twice changes
    nothing (a custom pattern may match a mark).
    """
    found: list[tuple[int, int, str]] = []
    lower = _lower_ascii(text)
    present = {at for at, _, _ in _TRIGGER_FINDER.find_matches_as_indexes(lower)}
    for kind, triggers, pattern, anchor in _TOKENS:
        if present & triggers:
            compiled = _compile(pattern)
            tokens = compiled.finditer(text) if anchor is None else _anchored(
                compiled, text, *anchor)
            found.extend((*_span(m), kind) for m in tokens)
    line_end = -1
    for _, hit, _ in _KEYWORD_FINDER.find_matches_as_indexes(lower):
        if hit < line_end:
            continue  # the line already looked at
        line_start = text.rfind("\n", 0, hit) + 1
        line_end = text.find("\n", hit)
        line_end = len(text) if line_end < 0 else line_end
        for pattern, checked, anchored in _ASSIGNMENTS:
            compiled = _compile(pattern)
            if anchored:  # anchored at a line's start, in one line: it can only match there
                match = compiled.match(text, line_start, line_end)
                matches: Iterable[re.Match[str]] = () if match is None else (match,)
            elif _may_assign(text, line_start, line_end):
                matches = compiled.finditer(text, line_start, line_end)
            else:
                continue
            for m in matches:
                start, end = _span(m)
                if not checked or _unquoted_secret(text[start:end]):
                    found.append((start, end, "assignment"))
    for pattern in extra_patterns:
        found.extend((*_span(m), "custom") for m in _compile(pattern).finditer(text))
    for literal in literals:
        if len(literal) >= 4:
            found.extend((m.start(), m.end(), "key")
                         for m in re.finditer(re.escape(literal), text))
    if found and "<redacted:" in text:
        marks = [m.span() for m in PLACEHOLDER.finditer(text)]
        found = [f for f in found if not any(a <= f[0] and f[1] <= b for a, b in marks)]
    return _merge(found)


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans sorted, overlapping ones joined (the first one's kind)."""
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


#: the shortest secret a session remembers from a document, and the shortest cut piece of one
#: it redacts at a line's edge
MIN_PIECE = 8
CUT_PIECE = 4


def _cut_end(piece: str, line: str) -> int:
    """The length of the longest proper end of ``piece`` that ``line`` starts with (0 when
    shorter than CUT_PIECE): a secret cut by a selection that starts inside it."""
    best = 0
    first = piece.find(line[:CUT_PIECE], 1)
    while first > 0:
        if line.startswith(piece[first:]):
            best = len(piece) - first
            break  # the earliest start is the longest end
        first = piece.find(line[:CUT_PIECE], first + 1)
    return best if best >= CUT_PIECE else 0


class Redactor:
    """The redaction of one session: every text it sends goes through ``redact``.

    Each distinct secret gets its own numbered mark (``<redacted:github-token:2>``), the same
    one wherever and however often it occurs in the session, so an answer that repeats a mark
    can have the secret put back locally (``restore``) before it is written into the user's
    file. The secrets stay in this object: they never leave the machine and are never written.
    """

    def __init__(self, extra_patterns: Sequence[str] = (),
                 literals: Callable[[], Sequence[str]] = tuple) -> None:
        self.extra_patterns = tuple(extra_patterns)
        self._literals = literals
        self._marks: dict[str, str] = {}  # secret -> its mark
        self._secrets: dict[str, str] = {}  # mark -> its secret
        #: the secrets of the documents the session works on, and each line of one that has
        #: several (a key block), by kind: found in any text, whole or cut at a line's edge
        self._learned: dict[str, str] = {}
        self._learned_pattern: re.Pattern[str] | None = None
        #: every run of CUT_PIECE characters in a learned secret -> the secrets it is in
        self._grams: dict[str, list[str]] = {}

    def __len__(self) -> int:
        """How many distinct secrets this session has redacted so far."""
        return len(self._marks)

    def learn(self, document: str) -> None:
        """Remember the secrets of a whole document, so that a part of it is redacted too even
        where the secret is cut: a selection that starts or ends inside one, or holds only
        some lines of a key block, which no pattern could recognise alone."""
        for start, end, kind in find_secrets(document, self.extra_patterns):
            secret = document[start:end]
            for piece in {secret, *(line.strip() for line in secret.splitlines())}:
                if len(piece) >= MIN_PIECE and piece not in self._learned:
                    self._learned[piece] = kind
                    self._learned_pattern = None

    def _pieces(self, text: str) -> list[tuple[int, int, str]]:
        """Where the learned secrets are in ``text``: whole, or cut at the start or the end of
        a line (what a selection that begins or ends inside a secret leaves)."""
        if not self._learned:
            return []
        if self._learned_pattern is None:
            self._learned_pattern = re.compile("|".join(
                re.escape(p) for p in sorted(self._learned, key=len, reverse=True)))
            self._grams = {}
            for piece in self._learned:
                for at in range(len(piece) - CUT_PIECE + 1):
                    self._grams.setdefault(piece[at:at + CUT_PIECE], []).append(piece)
        found = [(m.start(), m.end(), self._learned[m.group(0)])
                 for m in self._learned_pattern.finditer(text)]
        grams = self._grams
        line_start = 0
        for raw in text.split("\n"):
            line = raw.rstrip()
            end = line_start + len(line)
            # Only lines whose first or last characters occur in a learned secret are looked
            # at closely: most lines share nothing with any.
            near = (grams.get(line[:CUT_PIECE], ()), grams.get(line[-CUT_PIECE:], ()))
            if len(line) >= CUT_PIECE and (near[0] or near[1]):
                for piece in dict.fromkeys((*near[0], *near[1])):
                    kind = self._learned[piece]
                    if line in piece:  # a selection inside one secret
                        found.append((line_start, end, kind))
                        continue
                    head = _cut_end(piece, line)
                    if head:
                        found.append((line_start, line_start + head, kind))
                    tail = _cut_end(piece[::-1], line[::-1])
                    if tail:
                        found.append((end - tail, end, kind))
            line_start += len(raw) + 1
        return found

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its mark; the line count is kept."""
        spans = find_secrets(text, self.extra_patterns, self._literals())
        pieces = self._pieces(text)
        if pieces:
            spans = _merge([*spans, *pieces])
        if not spans:
            return text
        parts: list[str] = []
        position = 0
        for start, end, kind in spans:
            # A custom pattern may span a mark already there: keep the original whole.
            secret = self.restore(text[start:end])
            mark = self._marks.get(secret)
            if mark is None:
                mark = f"<redacted:{kind}:{len(self._marks) + 1}>"
                self._marks[secret] = mark
                self._secrets[mark] = secret
            parts.append(text[position:start])
            parts.append(mark + "\n" * text.count("\n", start, end))
            position = end
        parts.append(text[position:])
        return "".join(parts)

    def restore(self, text: str) -> str:
        """``text`` with the marks this session made put back to their secrets (a mark of a
        secret of several lines takes the newlines that stood in for them, when present)."""
        if "<redacted:" not in text:
            return text
        out: list[str] = []
        position = 0
        for match in PLACEHOLDER.finditer(text):
            if match.start() < position:  # inside the newlines a restored secret took
                continue
            secret = self._secrets.get(match.group(0))
            if secret is None:
                continue
            after = match.end()
            newlines = "\n" * secret.count("\n")
            if newlines and text.startswith(newlines, after):
                after += len(newlines)
            out.append(text[position:match.start()])
            out.append(secret)
            position = after
        out.append(text[position:])
        return "".join(out)

    def unknown(self, text: str, *, allowed: str = "") -> list[str]:
        """The marks in ``text`` that this session cannot put back (a mark from the
        repository context, or one the model made up), except those also in ``allowed``."""
        return sorted({m.group(0) for m in PLACEHOLDER.finditer(text)
                       if m.group(0) not in self._secrets and m.group(0) not in allowed})
