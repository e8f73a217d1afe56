"""The emulator's canned replies: deterministic text derived from the request, never AI.

Everything here is a pure function of the request body (and the scripted Fault), so tests can
check the reply without a socket and the same request always gets the same answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "CODE_CHANGE_WORDS",
    "EXPLAIN_HEADER",
    "REFACTOR_SENTENCE",
    "build_tool_input",
    "comment_prefix",
    "extract_fences",
    "find_definitions",
    "infill",
    "infill_parts",
    "input_tokens",
    "normalise_code",
    "reply_text",
    "split_deltas",
    "split_json",
]

EXPLAIN_HEADER = "**Ren emulator** (canned reply, not AI)."
REFACTOR_SENTENCE = "Ren emulator (canned, not AI): here is the code rewritten."
REFACTOR_COMMENT = "Refactored by the Ren emulator"
CODE_CHANGE_WORDS = ("refactor", "rewrite", "fix", "generate", "implement")

# A fenced block: an opening ``` (optional language tag) and the next line that is only ```.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
# Definitions in the common languages; Go's method receiver `func (r *T) Name` is skipped over.
_DEFINITION = re.compile(
    r"\b(?:def|class|function\*?|func|fn|struct|interface|const|let|var)\s+"
    r"(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)"
)
_HASH = {"python", "py", "sh", "bash", "zsh", "shell", "ruby", "rb", "toml", "yaml", "yml"}
_SLASHES = {
    "js", "javascript", "jsx", "ts", "typescript", "tsx", "go", "rust", "rs", "java",
    "c", "cpp", "c++", "cc", "h", "hpp",
}  # fmt: skip
_DASHES = {"lua", "sql"}
_FILLER = "Ren emulator filler text, canned and deterministic."
_WORDS_PER_DELTA = 3


def comment_prefix(language: str) -> str:
    """The line-comment marker for a fenced block's language tag (`#` when unknown)."""
    tag = language.lower()
    if tag in _SLASHES:
        return "//"
    if tag in _DASHES:
        return "--"
    return "#"


def extract_fences(text: str) -> list[tuple[str, str]]:
    """Every fenced code block in `text` as (language tag, code), in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        code = match.group(2)
        # The newline before the closing fence belongs to the fence, not to the code.
        blocks.append((match.group(1), code[:-1] if code.endswith("\n") else code))
    return blocks


def normalise_code(code: str) -> str:
    """Strip each line's trailing whitespace and collapse runs of blank lines to one."""
    out: list[str] = []
    for line in code.split("\n"):
        line = line.rstrip()
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out)


def find_definitions(code: str) -> list[str]:
    """Names defined in `code` (def/class/function/func/fn/struct/…), first occurrence order."""
    return list(dict.fromkeys(_DEFINITION.findall(code)))


def _block_text(content: Any) -> str:
    """The text of a message's content: a string, or the text inside its blocks."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") == "tool_result":
            parts.append(_block_text(block.get("content", "")))
    return "\n".join(parts)


def _last_user_text(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return _block_text(message.get("content", ""))
    return ""


# A fill-in-the-middle request as ren-lsp's completion prompt writes it: the file between
# <FILE> and </FILE> lines, the cursor marked <CURSOR>.
_INFILL = re.compile(r"^<FILE>\n(?P<file>.*)\n</FILE>$", re.M | re.S)
INFILL_CALL = "ren_emulator_infill"


def infill_parts(user: str) -> tuple[str, str] | None:
    """(prefix, suffix) of a fill-in-the-middle request, None for any other request."""
    match = _INFILL.search(user)
    if match is None or "<CURSOR>" not in match["file"]:
        return None
    prefix, _, suffix = match["file"].partition("<CURSOR>")
    return prefix, suffix


def infill(prefix: str, suffix: str) -> str:
    """The canned middle between ``prefix`` and ``suffix``: a call naming both lengths (so a
    test can tell what arrived): the rest of the line mid-line, a block on a blank line or
    after a line that opens one."""
    call = f"{INFILL_CALL}({len(prefix)}, {len(suffix)})"
    line = prefix.rsplit("\n", 1)[-1]
    indent = line[: len(line) - len(line.lstrip())]
    if not line.strip():
        return f"result = {call}\n{indent}return result"
    if line.rstrip().endswith((":", "{")):
        return f"\n{indent}    return {call}"
    # After a name or a value the line goes on with an operator, so the code stays valid.
    return f" + {call}" if line[-1].isalnum() or line[-1] in "_)]" else call


def reply_text(body: dict[str, Any]) -> str:
    """The canned reply to a (valid) request: the middle of a fill-in-the-middle request, a
    rewritten code block or an explanation."""
    user = _last_user_text(body)
    parts = infill_parts(user)
    if parts is not None:
        return infill(*parts)
    system = body.get("system")
    system = system if isinstance(system, str) else ""
    fences = extract_fences(user) + extract_fences(system)
    # What is asked is in the instruction, not in the code (a `prefix` is no request to fix).
    asked = _question_line(user)
    if asked.lower().startswith("generate code:"):
        language = fences[0][0] if fences else ""
        return _generate(language, asked.split(":", 1)[1].strip())
    wants_change = any(word in (system + "\n" + asked).lower() for word in CODE_CHANGE_WORDS)
    if wants_change and fences:
        language, code = fences[0]
        return _rewrite(language, code)
    return _explain(user, fences)


def _rewrite(language: str, code: str) -> str:
    body = f"{comment_prefix(language)} {REFACTOR_COMMENT}\n{normalise_code(code)}"
    return f"{REFACTOR_SENTENCE}\n\n```{language}\n{body}\n```\n"


def _generate(language: str, instruction: str) -> str:
    """New code for "Generate code: <instruction>": a named stub that says what to write."""
    words = re.findall(r"[A-Za-z]+", instruction.lower())[:4] or ["code"]
    name = "_".join(words)
    note = f"{comment_prefix(language)} Generated by the Ren emulator: {instruction}"
    if language in {"javascript", "typescript", "js", "ts", "jsx", "tsx"}:
        code = f"{note}\nfunction {name}() {{\n  throw new Error('not written yet');\n}}"
    else:
        code = f"{note}\ndef {name}():\n    raise NotImplementedError({instruction!r})"
    return f"{REFACTOR_SENTENCE}\n\n```{language}\n{code}\n```\n"


def _question_line(user: str) -> str:
    """The first non-empty line of the user's text outside code fences."""
    prose = _FENCE.sub("", user)
    for line in prose.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _explain(user: str, fences: list[tuple[str, str]]) -> str:
    question = _question_line(user)
    lines = [EXPLAIN_HEADER, ""]
    if question:
        lines.append(f'You asked: "{question}".')
    else:
        lines.append("You sent no question in prose, so this describes the code.")
    if fences:
        language, code = fences[0]
        count = len(code.split("\n")) if code else 0
        tag = f"`{language}`" if language else "untagged"
        lines.append(f"The code you sent is {tag} and has {count} lines.")
        names = list(dict.fromkeys(n for _, c in fences for n in find_definitions(c)))
        if names:
            lines.append("It defines " + ", ".join(f"`{n}`" for n in names) + ".")
        else:
            lines.append("It defines no functions, classes or variables that I can see.")
        if len(fences) > 1:
            lines.append(f"There are {len(fences)} fenced code blocks in the request.")
    else:
        lines.append("The request contains no fenced code block.")
    lines += [
        "",
        "This answer is canned and deterministic: the same request always gets the same reply.",
        "It comes from the local Ren emulator, which speaks the Ren API wire format",
        "so that editors, tests and benchmarks can run without the network.",
        "Point the base URL at the real Ren API to get answers from Astra.",
    ]
    return "\n".join(lines) + "\n"


def split_deltas(text: str, count: int | None = None) -> list[str]:
    """Split `text` into text deltas of a few words each.

    With `count`, return exactly `count` non-empty deltas: words are grouped evenly when there
    are enough, and when there are too few the words are repeated (whitespace kept between
    them) until there are `count` of them, so the streamed text is then longer than `text`.
    """
    words = re.findall(r"\s*\S+\s*", text) or ([text] if text else [])
    if count is None:
        step = _WORDS_PER_DELTA
        return ["".join(words[i : i + step]) for i in range(0, len(words), step)]
    if count <= 0:
        return []
    if len(words) < count:
        # Repeated words keep a space after them so they never run into the next repetition.
        base = [w if w[-1].isspace() else w + " " for w in (words or _FILLER.split(" "))]
        return [base[i % len(base)] for i in range(count)]
    size, extra = divmod(len(words), count)
    deltas, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        deltas.append("".join(words[start:end]))
        start = end
    return deltas


def input_tokens(body: dict[str, Any]) -> int:
    """A rough token count of the request: all its text over four, at least one."""
    text = json.dumps(body, ensure_ascii=False)
    return max(1, len(text) // 4)


_SCALARS: dict[str, Any] = {
    "string": "example",
    "number": 1,
    "integer": 1,
    "boolean": True,
    "array": [],
    "object": {},
    "null": None,
}


def build_tool_input(input_schema: dict[str, Any]) -> dict[str, Any]:
    """A deterministic input for a tool: each required property gets a value of its type."""
    properties = input_schema.get("properties") or {}
    result: dict[str, Any] = {}
    for name in input_schema.get("required") or []:
        spec = properties.get(name) if isinstance(properties, dict) else None
        spec = spec if isinstance(spec, dict) else {}
        if spec.get("enum"):
            result[name] = spec["enum"][0]
            continue
        kind = spec.get("type", "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        value = _SCALARS.get(kind, "example")
        # Fresh containers: never hand out the shared defaults.
        result[name] = type(value)() if isinstance(value, list | dict) else value
    return result


def split_json(data: dict[str, Any]) -> list[str]:
    """The compact JSON of `data` in at least two pieces (for `input_json_delta` events)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    size = max(1, -(-len(text) // 3))
    return [text[i : i + size] for i in range(0, len(text), size)]
