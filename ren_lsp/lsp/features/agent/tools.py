"""The agent's six tools, exactly as DESIGN.md's contract names them, each checked before it runs.

Every path is relative to the workspace root; one outside it (``..``, absolute, a symlink out),
a secret file or a binary file is refused with an ``is_error`` result, never read or written.
Results are bounded: a long file or output is cut with a note saying how to read more.
"""

from __future__ import annotations

import difflib
import functools
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ren_lsp.models import Tool

if TYPE_CHECKING:
    from ren_lsp.context.secrets import Redactor
    from ren_lsp.lsp.features.agent.checkpoints import Checkpoint
    from ren_lsp.lsp.features.agent.commands import CommandRunner
    from ren_lsp.lsp.protocol import Server

#: characters of one tool result the model gets (about 5,000 tokens)
RESULT_LIMIT = 20_000
#: files list_files shows at most
LIST_LIMIT = 400
#: bytes of a file the agent may read or edit
FILE_LIMIT = 1_000_000


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


_PATH = {"type": "string", "minLength": 1, "description": "relative to the workspace root"}
TOOLS = [
    Tool("read_file", "Read a file of the workspace (the editor's buffer when it is open), "
         "optionally only lines start_line..end_line (1-based, inclusive).",
         _schema({"path": _PATH, "start_line": {"type": "integer", "minimum": 1},
                  "end_line": {"type": "integer", "minimum": 1}}, ["path"])),
    Tool("list_files", "List the files under a folder of the workspace (ignore rules and "
         "secret files honoured); the root when path is omitted.",
         _schema({"path": {"type": "string"}}, [])),
    Tool("search", "The workspace files most relevant to a query, with snippets.",
         _schema({"query": {"type": "string", "minLength": 1}}, ["query"])),
    Tool("edit_file", "Replace exactly one occurrence of old_text in a file with new_text; an "
         "error if old_text occurs zero or several times (add surrounding lines to make it "
         "unique).",
         _schema({"path": _PATH, "old_text": {"type": "string", "minLength": 1},
                  "new_text": {"type": "string"}}, ["path", "old_text", "new_text"])),
    Tool("create_file", "Create a new file with this content; an error if it exists.",
         _schema({"path": _PATH, "content": {"type": "string"}}, ["path", "content"])),
    Tool("run_command", "Run a shell command in the workspace root (the user approves it "
         "first); returns its exit status and the tail of its output.",
         _schema({"command": {"type": "string", "minLength": 1}}, ["command"])),
]
TOOL_NAMES = [t.name for t in TOOLS]


@attrs.frozen
class Outcome:
    """A tool's result for the model, and a short line for the transcript."""

    content: str
    is_error: bool = False
    summary: str = ""
    #: a unified diff of what an edit changed (for the transcript)
    diff: str = ""
    #: a command's exit status (None: not a command, or it did not finish)
    exit_code: int | None = None


@functools.cache
def _validator(name: str) -> Any:
    """A tool's input validator, built once (jsonschema is imported on first use)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(next(t for t in TOOLS if t.name == name).input_schema)


class ToolError(Exception):
    """A tool refused or failed; the message goes back to the model as an ``is_error`` result."""


def cut(text: str, limit: int = RESULT_LIMIT, how: str = "") -> str:
    """``text`` bounded to ``limit`` characters, with a note of what was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… cut: {len(text) - limit} more characters; {how or 'ask less'}]"


class Tools:
    """The tools of one agent run: the workspace root, what was read, the checkpoint."""

    def __init__(self, ls: Server, root: Path, checkpoint: Checkpoint,
                 runner: CommandRunner, secrets: Redactor | None = None) -> None:
        self.ls = ls
        #: the session's marks: what the agent read went out with its secrets as marks, and
        #: the marks in what it writes are put back before a file is touched
        self.secrets = secrets
        self.root = root.resolve()
        self.checkpoint = checkpoint
        self.runner = runner
        #: relative path -> the text as the agent last read (or wrote) it
        self.seen: dict[str, str] = {}

    async def run(self, name: str, args: dict[str, Any]) -> Outcome:
        """Check ``args`` against the tool's schema, then run it; errors become results."""
        from jsonschema.exceptions import best_match

        if name not in TOOL_NAMES:
            return Outcome(f"There is no tool '{name}'; the tools are {', '.join(TOOL_NAMES)}.",
                           True, "unknown tool")
        error = best_match(_validator(name).iter_errors(args))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path)
            return Outcome(f"Bad input for {name}: {where + ': ' if where else ''}"
                           f"{error.message}", True, "bad input")
        try:
            return await getattr(self, name)(**args)
        except ToolError as exc:
            return Outcome(str(exc), True, str(exc).split(":")[0][:80])

    # -- paths ------------------------------------------------------------------------------

    def resolve(self, path: str, *, must_exist: bool = True) -> tuple[str, Path]:
        """(the path relative to the root, the file) or ToolError for anything out of bounds."""
        if Path(path).is_absolute() or path.startswith("~"):
            raise ToolError(f"refused: '{path}' is not relative to the workspace root")
        relative = posixpath.normpath(path.replace("\\", "/"))
        if relative == ".." or relative.startswith("../"):
            raise ToolError(f"refused: '{path}' is outside the workspace")
        target = (self.root / relative)
        real = target.resolve()
        if not real.is_relative_to(self.root):
            raise ToolError(f"refused: '{path}' leads outside the workspace (a symlink)")
        from ren_lsp.context import is_secret_file

        extra = self.ls.settings.secret_files
        inside = real.relative_to(self.root).as_posix()  # a symlink's target counts too
        if relative != "." and (is_secret_file(relative, extra) or is_secret_file(inside, extra)):
            raise ToolError(f"refused: '{path}' looks like a secret file; it is never read or "
                            "written by the agent")
        if must_exist and not real.exists():
            raise ToolError(f"no such file or folder: '{relative}'")
        return relative, target

    def _text(self, relative: str, target: Path) -> str:
        """The file's text: the editor's buffer when it is open, else the disk."""
        doc = self.ls.workspace.text_documents.get(target.as_uri())
        if doc is not None:
            return doc.source
        if not target.is_file():
            raise ToolError(f"'{relative}' is not a file")
        if target.stat().st_size > FILE_LIMIT:
            raise ToolError(f"'{relative}' is larger than {FILE_LIMIT // 1000} KB")
        data = target.read_bytes()
        if b"\0" in data[:8192]:
            raise ToolError(f"refused: '{relative}' is a binary file")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolError(f"refused: '{relative}' is not UTF-8 text") from None

    # -- the tools ----------------------------------------------------------------------------

    async def read_file(self, path: str, start_line: int | None = None,
                        end_line: int | None = None) -> Outcome:
        relative, target = self.resolve(path)
        text = self._text(relative, target)
        self.seen[relative] = text
        lines = text.splitlines(keepends=True)
        first = start_line or 1
        last = min(end_line or len(lines), len(lines))
        if start_line or end_line:
            if first > max(len(lines), 1) or first > last:
                raise ToolError(f"lines {first}-{end_line}: '{relative}' has {len(lines)} lines")
            text = "".join(lines[first - 1:last])
        shown = cut(text, how=f"read on with start_line (the file has {len(lines)} lines)")
        return Outcome(shown, summary=f"{len(lines)} lines" if not (start_line or end_line)
                       else f"lines {first}-{last}")

    async def list_files(self, path: str = "") -> Outcome:
        relative, target = self.resolve(path or ".")
        engine = self.ls.indexing.engine
        prefix = "" if relative == "." else relative.rstrip("/") + "/"
        if engine is not None:
            await self.ls.indexing.ready()
            with engine.index.lock:
                files = sorted(r.key for r in engine.index.records.values()
                               if r.root >= 0 and r.key.startswith(prefix))
        else:
            files = []
        if not files and not target.is_dir():
            raise ToolError(f"'{relative}' is not a folder")
        listed = "\n".join(files[:LIST_LIMIT])
        if len(files) > LIST_LIMIT:
            listed += f"\n[… {len(files) - LIST_LIMIT} more: list a subfolder]"
        return Outcome(listed or "(no files)", summary=f"{len(files)} files")

    async def search(self, query: str) -> Outcome:
        result = await self.ls.indexing.query(question=query)
        if result is None or not result.files:
            return Outcome("No file matches.", summary="no match")
        return Outcome(cut(result.text), summary=", ".join(f.path for f in result.files[:5]))

    async def edit_file(self, path: str, old_text: str, new_text: str) -> Outcome:
        relative, target = self.resolve(path)
        text = self._text(relative, target)
        old_text, new_text = (self._restore(relative, old_text, text),
                              self._restore(relative, new_text, text))
        base = self.seen.get(relative, text)
        if text != base:
            raise ToolError(f"'{relative}' changed since you read it: read it again first")
        count = text.count(old_text)
        if count != 1:
            raise ToolError(f"old_text occurs {count} times in '{relative}'; it must occur "
                            "exactly once (include more of the surrounding lines)")
        updated = text.replace(old_text, new_text, 1)
        await self._write(relative, target, updated, read_as=text)
        return Outcome(f"Edited {relative}.", summary=f"edited {relative}",
                       diff=diff(relative, text, updated))

    async def create_file(self, path: str, content: str) -> Outcome:
        relative, target = self.resolve(path, must_exist=False)
        if target.exists():
            raise ToolError(f"'{relative}' exists already: use edit_file")
        content = self._restore(relative, content)
        await self._write(relative, target, content, read_as=None)
        return Outcome(f"Created {relative}.", summary=f"created {relative}",
                       diff=diff(relative, "", content))

    def _restore(self, relative: str, text: str, file_text: str = "") -> str:
        """``text`` with the session's marks put back to the secrets they stand for; a mark
        it cannot put back is never written into a file."""
        if self.secrets is None or "<redacted:" not in text:
            return text
        unknown = self.secrets.unknown(text, allowed=file_text)
        if unknown:
            raise ToolError(f"'{relative}' was not changed: the text holds {', '.join(unknown)}, "
                            "which stands for no secret this run read; leave those lines as "
                            "they are or write the value itself")
        return self.secrets.restore(text)

    async def _write(self, relative: str, target: Path, text: str, *,
                     read_as: str | None) -> None:
        self.checkpoint.before_change(relative, target, read_as)
        result = await self.ls.edits.write_file(target, text, read_as=read_as,
                                                label="Astra: Agent")
        if not result.applied:
            raise ToolError(f"'{relative}' was not changed: {result.reason}")
        self.seen[relative] = text
        self.checkpoint.after_change(relative, text)

    async def run_command(self, command: str) -> Outcome:
        return await self.runner.run(command)


def diff(relative: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True),
                                 after.splitlines(keepends=True),
                                 fromfile=f"a/{relative}", tofile=f"b/{relative}")
    return cut("".join(lines), 4000, "the whole change is on disk")
