"""Text around a pull request: cleaning Astra's answer, branch names, bounded diffs, templates.

Astra is asked for plain text (subject or title on the first line, a blank line, the body);
models still wrap it ("Here is a commit message:", quotes, code fences). ``clean_message``
takes that off; an answer with nothing usable left gives way to ``fallback_message``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

SUBJECT_LIMIT = 72
#: characters of diff sent whole; a larger diff is summarised per file
DIFF_BUDGET = 24_000
PER_FILE_MIN = 600

_CHATTER = re.compile(
    r"^(here(?:'s| is| are)\b.*|sure\b.*|certainly\b.*|of course\b.*|okay\b.*|ok[,.!].*"
    r"|below is\b.*|i(?:'ve| have) (?:written|drafted|prepared)\b.*"
    r"|(?:a |the )?(?:suggested |proposed )?(?:commit message|pull request(?: text| "
    r"description)?|pr (?:title|description)|title and (?:body|description))\s*[:\-]?\s*)$",
    re.IGNORECASE)
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:title|subject|summary|commit message)(?:\*\*)?\s*:\s*(?:\*\*)?",
    re.IGNORECASE)
_BODY_LABEL = re.compile(r"^\s*(?:\*\*)?(?:body|description)(?:\*\*)?\s*:\s*(?:\*\*)?\s*$",
                         re.IGNORECASE)
_TRAILING_CHATTER = re.compile(
    r"^(let me know\b.*|i hope\b.*|feel free\b.*|would you like\b.*|hope this helps.*)$",
    re.IGNORECASE)
_TEMPLATES = (".github/pull_request_template.md", ".github/PULL_REQUEST_TEMPLATE.md",
              "pull_request_template.md", "PULL_REQUEST_TEMPLATE.md",
              "docs/pull_request_template.md", ".gitea/pull_request_template.md",
              ".gitlab/merge_request_templates/Default.md")


def clean_message(answer: str) -> tuple[str, str] | None:
    """(subject, body) from a model's answer, chatter, fences and quotes removed; None when
    nothing usable is left."""
    lines = answer.replace("\r\n", "\n").strip().split("\n")
    # Leading chatter lines ("Here is a commit message:") and blank lines.
    while lines and (not lines[0].strip() or _CHATTER.match(lines[0].strip())):
        lines.pop(0)
    # A fenced answer: keep what is inside the first fence.
    if lines and lines[0].strip().startswith(("```", "~~~")):
        fence = lines[0].strip()[:3]
        inner = []
        for line in lines[1:]:
            if line.strip().startswith(fence):
                break
            inner.append(line)
        lines = inner
    while lines and (not lines[-1].strip() or _TRAILING_CHATTER.match(lines[-1].strip())
                     or lines[-1].strip().startswith(("```", "~~~"))):
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    subject = _LABEL.sub("", lines[0]).strip()
    subject = subject.lstrip("#").strip().strip("*").strip()
    if len(subject) >= 2 and subject[0] == subject[-1] and subject[0] in "\"'`":
        subject = subject[1:-1].strip()
    rest = lines[1:]
    if rest and _BODY_LABEL.match(rest[0]):
        rest = rest[1:]
    body = "\n".join(rest).strip("\n")
    body = "\n".join(line for line in body.split("\n")
                     if not _BODY_LABEL.match(line)).strip()
    if not subject or not re.search(r"\w", subject):
        return None
    return subject, body


def limit_subject(subject: str, limit: int = SUBJECT_LIMIT) -> tuple[str, str]:
    """(subject within ``limit`` characters, the overflow for the body)."""
    subject = " ".join(subject.split())
    if len(subject) <= limit:
        return subject, ""
    cut = subject.rfind(" ", 0, limit - 1)
    cut = cut if cut > limit // 2 else limit - 1
    return subject[:cut].rstrip() + "…", "…" + subject[cut:].lstrip()


def fallback_message(paths: Iterable[str]) -> tuple[str, str]:
    """A plain summary of the changed files, for when Astra's answer is unusable."""
    files = sorted(set(paths))
    if not files:
        return "Update the repository", ""
    if len(files) == 1:
        subject = f"Update {files[0]}"
    else:
        subject = f"Update {len(files)} files: {', '.join(Path(f).name for f in files[:3])}"
        if len(files) > 3:
            subject += ", …"
    subject, more = limit_subject(subject)
    body = "Changed files:\n\n" + "\n".join(f"- `{f}`" for f in files)
    return subject, (more + "\n\n" + body).strip()


def slug(title: str, limit: int = 40) -> str:
    """A branch-name slug from a title: ``Fix the café's total`` -> ``fix-the-cafes-total``."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", ""))
    text = ""
    for word in words:
        if len(text) + len(word) + 1 > limit:
            break
        text = f"{text}-{word}" if text else word
    return text or "changes"


def unique_branch(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is not ``taken`` (the names of local
    branches and of the remote's branches)."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def bounded_diff(diff: str, stat: str, budget: int = DIFF_BUDGET) -> str:
    """``diff`` whole when it fits ``budget``; else the stat, then each file's diff cut to its
    share, so every file is represented."""
    if len(diff) <= budget:
        return diff
    sections = re.split(r"(?m)^(?=diff --git )", diff)
    sections = [s for s in sections if s.strip()]
    share = max(PER_FILE_MIN, (budget - len(stat)) // max(1, len(sections)))
    parts = [f"(The diff is {len(diff) // 1000} KB: each file is cut to its first lines.)",
             stat.strip(), ""]
    used = sum(len(p) for p in parts)
    for section in sections:
        piece = section if len(section) <= share else (
            section[:share].rsplit("\n", 1)[0] + "\n… (cut)\n")
        if used + len(piece) > budget:
            header = section.split("\n", 1)[0]
            piece = header + "\n… (left out)\n"
        parts.append(piece)
        used += len(piece)
    return "\n".join(parts)


def find_template(root: Path) -> str | None:
    """The repository's pull request template, if it has one."""
    for name in _TEMPLATES:
        path = root / name
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8", errors="replace").strip()
            except OSError:
                continue
            if text:
                return text[:6000]
    return None


def parse_preview(text: str) -> tuple[str, str] | None:
    """(title, body) from the preview document: its first ``# `` line, then the rest."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip(), "\n".join(lines[index + 1:]).strip()
        if line.strip():
            break
    return None
