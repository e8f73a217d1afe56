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
    ".rs": "rust", ".java": "java", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
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


def ask(question: str, *, path: str | None = None, code: str | None = None,
        first_line: int = 1) -> str:
    """The user turn of a question, optionally about a piece of a file."""
    if not code or path is None:
        return question
    last = first_line + max(len(code.splitlines()), 1) - 1
    where = f"{path}, lines {first_line}-{last}"
    return f"{question}\n\nThe code in question ({where}):\n\n{fence(code, language_of(path))}"
