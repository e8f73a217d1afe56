"""What each feature asks Astra, in one place."""

from __future__ import annotations

from pathlib import PurePath

SYSTEM = (
    "You are Astra, a coding assistant working inside the user's editor through ren-lsp. "
    "Answer precisely and concisely, in Markdown. When you show code, use fenced code blocks "
    "with a language tag."
)

LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "jsx", ".ts": "typescript", ".tsx": "tsx", ".go": "go",
    ".rs": "rust", ".java": "java", ".c": "c", ".h": "cpp", ".cc": "cpp", ".cpp": "cpp",
    ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php", ".lua": "lua",
    ".sh": "sh", ".bash": "sh", ".sql": "sql", ".toml": "toml", ".yaml": "yaml",
    ".yml": "yaml", ".json": "json", ".md": "markdown", ".kt": "kotlin", ".swift": "swift",
}


def language_of(path: str | PurePath) -> str:
    """A Markdown fence tag for a file, from its extension ('' when unknown)."""
    return LANGUAGES.get(PurePath(path).suffix.lower(), "")


def fence(code: str, language: str) -> str:
    """Wrap code in a fence that its own content cannot close."""
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}{language}\n{code.rstrip()}\n{ticks}"


def line_span(code: str, first_line: int) -> str:
    """The 1-based lines a piece of code covers, from its first: "12-30"."""
    return f"{first_line}-{first_line + max(len(code.splitlines()), 1) - 1}"


def ask(question: str, *, path: str | None = None, code: str | None = None,
        first_line: int = 1, context: str = "") -> str:
    """The user turn of a question, optionally about a piece of a file."""
    if not code or path is None:
        return question + _context_block(context)
    where = f"{path}, lines {line_span(code, first_line)}"
    return (f"{question}\n\nThe code in question ({where}):\n\n{fence(code, language_of(path))}"
            + _context_block(context))


def _where(path: str, first_line: int, code: str) -> str:
    return f"{path}, lines {line_span(code, first_line)}"


def _context_block(context: str) -> str:
    return f"\n\nRelevant context from the repository:\n\n{context}" if context.strip() else ""


def explain(*, path: str, code: str, first_line: int, surrounding: str, context: str = "") -> str:
    """Explain a selection: what it does, how, and what to watch out for."""
    lang = language_of(path)
    return (
        f"Explain this code from {_where(path, first_line, code)}: what it does, how it does "
        "it, and anything surprising or risky in it.\n\n"
        f"{fence(code, lang)}\n\nThe code around it, for reference:\n\n{fence(surrounding, lang)}"
        + _context_block(context)
    )


def rewrite(*, path: str, code: str, first_line: int, instruction: str, surrounding: str,
            diagnostics: list[str] | None = None, context: str = "") -> str:
    """Refactor or fix a selection; the answer's first fenced block replaces it."""
    lang = language_of(path)
    problems = ""
    if diagnostics:
        problems = "\n\nFix these problems reported in it:\n" + "\n".join(
            f"- {d}" for d in diagnostics)
    return (
        f"{instruction}{problems}\n\nRewrite this code from {_where(path, first_line, code)}:\n\n"
        f"{fence(code, lang)}\n\nAnswer with the complete replacement in ONE fenced code block "
        "(same language, same indentation), then at most two sentences on what changed.\n\n"
        f"The code around it, for reference (do not repeat it):\n\n{fence(surrounding, lang)}"
        + _context_block(context)
    )


def generate(*, path: str, instruction: str, before: str, after: str, context: str = "") -> str:
    """Generate new code at a place in a file; the answer's first fenced block is inserted."""
    lang = language_of(path)
    return (
        f"Generate code: {instruction}\n\nIt goes into {path} between these two parts of the "
        f"file.\n\nBefore:\n\n{fence(before, lang)}\n\nAfter:\n\n{fence(after, lang)}\n\n"
        "Answer with only the new code in ONE fenced code block, then at most two sentences."
        + _context_block(context)
    )


def architecture(report: str, where: str) -> str:
    """Commentary on a locally computed architecture report."""
    return (
        f"Here is the architecture of {where}, computed from its source files (packages, "
        "imports between them, cycles, entry points, the largest and most connected modules, "
        "external dependencies checked against the manifests). Comment on it: the main layers "
        "and their responsibilities, the riskiest couplings and cycles and how to break them "
        "(the report names the imports that break each cycle), dependency problems, and what a "
        "newcomer should read first. Be concrete; name the modules. What the report marks as "
        "approximate (matched by path, or a cut found greedily) is a lead, not a fact: say so "
        f"when you rely on it.\n\n{report}"
    )


AGENT_SYSTEM = (
    "You are Astra, a coding agent working in the user's repository through ren-lsp, inside "
    "their editor. Carry out the task with the tools: read before you edit, make small exact "
    "edits (edit_file replaces one unique occurrence of old_text), run commands only when "
    "they help (the user approves each one). Before each tool call, say in one short sentence "
    "what you do and why: that is your plan, shown to the user. When the task is done, stop "
    "calling tools and say in a few sentences what you changed."
)


def agent_task(task: str, *, verify: str | None, path: str | None = None,
               code: str | None = None, first_line: int = 1, context: str = "") -> str:
    """The first user turn of an agent run."""
    text = f"Task: {task}"
    if verify:
        text += (f"\n\nWhen you are done, the user's verification command `{verify}` is run; "
                 "the task is done when it passes.")
    if code and path:
        text += (f"\n\nThe user selected this code ({path}, lines "
                 f"{line_span(code, first_line)}):\n\n{fence(code, language_of(path))}")
    return text + _context_block(context)


def verification_failed(command: str, status: int | None, output: str) -> str:
    """The user turn that hands a failed verification back to the agent."""
    how = f"exited with status {status}" if status is not None else "timed out"
    return (f"The verification command `{command}` {how}. Its output:\n\n{fence(output, '')}"
            "\n\nFix the cause, then stop calling tools.")
