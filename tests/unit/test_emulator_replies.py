"""The emulator's canned replies, request validation and Fault model, without a socket."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.emulator import Fault
from ren_lsp.emulator.faults import ERROR_TYPES, RecordedRequest, error_type_for
from ren_lsp.emulator.replies import (
    EXPLAIN_HEADER,
    REFACTOR_SENTENCE,
    build_tool_input,
    comment_prefix,
    extract_fences,
    find_definitions,
    normalise_code,
    reply_text,
    split_deltas,
    split_json,
)
from ren_lsp.emulator.schemas import event_validator, request_error
from ren_lsp.emulator.stream import plan_reply


def ask(text: str, system: str | None = None) -> dict:
    body: dict = {"model": "astra", "messages": [{"role": "user", "content": text}]}
    if system is not None:
        body["system"] = system
    return body


# --- explanations -----------------------------------------------------------------------------


def test_explanation_says_it_is_canned_and_names_what_it_sees() -> None:
    code = "def compute_total(items):\n    return sum(items)\n\nclass Basket:\n    pass"
    text = reply_text(ask(f"What does this do?\nBe brief.\n```python\n{code}\n```"))

    assert text.startswith(EXPLAIN_HEADER)
    assert "`compute_total`" in text
    assert "`Basket`" in text
    assert "`python`" in text
    assert "has 5 lines" in text
    assert '"What does this do?"' in text
    assert text.count("\n") >= 5  # several lines, so a stream has many deltas


def test_explanation_without_code_still_answers() -> None:
    text = reply_text(ask("hello there"))
    assert text.startswith(EXPLAIN_HEADER)
    assert "no fenced code block" in text


def test_code_in_the_system_prompt_counts() -> None:
    text = reply_text(
        ask("Explain the selection.", system="Selection:\n```go\nfunc Serve() {}\n```")
    )
    assert "`Serve`" in text


def test_reply_is_deterministic() -> None:
    body = ask("Explain\n```js\nfunction go() {}\n```")
    assert reply_text(body) == reply_text(json.loads(json.dumps(body)))


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("def a():\n    pass\nclass B(object): ...", ["a", "B"]),
        ("function render() {}\nconst x = 1; let y; var z", ["render", "x", "y", "z"]),
        ("func (s *Server) Handle() {}\ntype T struct{}\nfunc main() {}", ["Handle", "main"]),
        ("fn parse() {}\nstruct Token;", ["parse", "Token"]),
        ("interface Shape {}", ["Shape"]),
        ("x = 1", []),
    ],
)
def test_find_definitions(code: str, names: list[str]) -> None:
    assert find_definitions(code) == names


# --- code changes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "prefix"),
    [("python", "#"), ("sh", "#"), ("toml", "#"), ("ts", "//"), ("rust", "//"), ("cpp", "//"),
     ("lua", "--"), ("sql", "--"), ("", "#"), ("haskell", "#")],
)  # fmt: skip
def test_comment_prefix(language: str, prefix: str) -> None:
    assert comment_prefix(language) == prefix


@pytest.mark.parametrize("verb", ["Refactor", "REWRITE", "fix", "Generate", "implement"])
def test_code_change_request_gets_a_rewritten_block(verb: str) -> None:
    body = ask(f"{verb} this please\n```ts\nconst a = 1;   \n\n\n\nconst b = 2;\n```")
    text = reply_text(body)
    assert text.startswith(REFACTOR_SENTENCE)
    assert extract_fences(text) == [
        ("ts", "// Refactored by the Ren emulator\nconst a = 1;\n\nconst b = 2;")
    ]


def test_instruction_in_system_prompt_counts() -> None:
    body = ask("```lua\nlocal x = 1\n```", system="Fix the selected code.")
    assert extract_fences(reply_text(body)) == [
        ("lua", "-- Refactored by the Ren emulator\nlocal x = 1")
    ]


def test_code_change_words_without_code_get_an_explanation() -> None:
    assert reply_text(ask("please fix everything")).startswith(EXPLAIN_HEADER)


def expected_rewrite(code: str) -> str:
    """An independent statement of the rule: rstrip each line, then keep one line of each run
    of blank lines."""
    lines = [line.rstrip() for line in code.split("\n")]
    kept = []
    for blank, run in itertools.groupby(lines, key=lambda line: line == ""):
        kept += [""] if blank else list(run)
    return "\n".join(kept)


_LANGUAGES = ["python", "js", "go", "rust", "lua", "sql", "yaml", "", "c++", "kotlin"]
_line_text = st.text(
    alphabet=st.characters(exclude_characters="`\n", exclude_categories=("Cs",)), max_size=30
)
_line = st.builds(
    lambda indent, body, trailing: indent + body + trailing,
    st.sampled_from(["", "  ", "    ", "\t"]),
    _line_text,
    st.sampled_from(["", " ", "  \t", "\t"]),
)


@given(language=st.sampled_from(_LANGUAGES), lines=st.lists(_line, max_size=20))
def test_rewrite_is_the_input_cleaned_up(language: str, lines: list[str]) -> None:
    code = "\n".join(lines)
    text = reply_text(ask(f"Refactor this:\n```{language}\n{code}\n```"))

    fences = extract_fences(text)
    assert len(fences) == 1
    got_language, block = fences[0]
    assert got_language == language
    comment, _, rest = block.partition("\n")
    assert comment == f"{comment_prefix(language)} Refactored by the Ren emulator"
    assert rest == expected_rewrite(code)
    assert normalise_code(code) == expected_rewrite(code)


# --- deltas -----------------------------------------------------------------------------------


@given(st.text())
def test_deltas_rebuild_the_text(text: str) -> None:
    deltas = split_deltas(text)
    assert "".join(deltas) == text
    assert all(deltas)


@given(text=st.text(max_size=200), count=st.integers(min_value=1, max_value=60))
def test_deltas_count_is_exact(text: str, count: int) -> None:
    deltas = split_deltas(text, count)
    assert len(deltas) == count
    assert all(deltas)
    if len(text.split()) >= count:
        assert "".join(deltas) == text  # enough words: no filler needed


def test_many_deltas_from_a_short_text_repeat_it() -> None:
    deltas = split_deltas("two words", 5)
    assert deltas == ["two ", "words ", "two ", "words ", "two "]
    assert len(split_deltas("", 20_000)) == 20_000


def test_a_few_words_per_delta() -> None:
    deltas = split_deltas("one two three four five six seven")
    assert deltas == ["one two three ", "four five six ", "seven"]


# --- tool use ---------------------------------------------------------------------------------

TOOL_SCHEMA = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "line": {"type": "integer"},
        "ratio": {"type": "number"},
        "force": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "object"},
        "mode": {"enum": ["fast", "slow"]},
        "optional": {"type": "string"},
    },
    "required": ["path", "line", "ratio", "force", "tags", "options", "mode"],
}


def test_tool_input_is_built_from_the_schema() -> None:
    assert build_tool_input(TOOL_SCHEMA) == {
        "path": "example",
        "line": 1,
        "ratio": 1,
        "force": True,
        "tags": [],
        "options": {},
        "mode": "fast",
    }


@pytest.mark.parametrize("data", [{}, {"a": 1}, build_tool_input(TOOL_SCHEMA)])
def test_tool_input_is_split_in_at_least_two_pieces(data: dict) -> None:
    pieces = split_json(data)
    assert len(pieces) >= 2
    assert json.loads("".join(pieces)) == data


def test_tool_use_fault_without_tools_is_a_normal_reply() -> None:
    reply = plan_reply(ask("hi"), Fault(tool_use=True), "msg_1", "toolu_1")
    assert reply.tool is None
    assert reply.stop_reason == "end_turn"


def test_tool_use_fault_picks_the_named_tool() -> None:
    body = ask("hi")
    body["tools"] = [
        {"name": "first", "input_schema": {"type": "object"}},
        {"name": "second", "input_schema": TOOL_SCHEMA},
    ]
    reply = plan_reply(body, Fault(tool_use="second"), "msg_1", "toolu_1")
    assert reply.tool == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "second",
        "input": build_tool_input(TOOL_SCHEMA),
    }
    assert reply.stop_reason == "tool_use"


def test_planned_events_validate_against_the_events_schema() -> None:
    validator = event_validator()
    for fault in (None, Fault(tool_use=True)):
        body = ask("Explain\n```py\ndef f(): pass\n```")
        body["tools"] = [{"name": "t", "input_schema": TOOL_SCHEMA}]
        for _name, data in plan_reply(body, fault, "msg_1", "toolu_1").events():
            validator.validate(data)


def test_events_schema_rejects_a_bad_event() -> None:
    validator = event_validator()
    assert not validator.is_valid({"type": "content_block_delta", "index": 0, "delta": {}})
    assert not validator.is_valid({"type": "message_stop_typo"})


# --- request validation -----------------------------------------------------------------------


def test_a_full_request_is_valid() -> None:
    body = {
        "model": "astra",
        "stream": True,
        "system": "You are helpful.",
        "max_tokens": 1024,
        "temperature": 0.5,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u1"},
        "tools": [{"name": "open_file", "description": "Open", "input_schema": TOOL_SCHEMA}],
        "tool_choice": {"type": "tool", "name": "open_file"},
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "open_file", "input": {}}],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        ],
    }
    assert request_error(body) is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"messages": [{"role": "bot", "content": "x"}]},
         "messages.0.role: 'bot' is not one of ['user', 'assistant']"),
        ({"messages": []}, "messages:"),
        ({"temperature": 1.5}, "temperature:"),
        ({"max_tokens": 0}, "max_tokens:"),
        ({"stream": "yes"}, "stream:"),
        ({"colour": "blue"}, "'colour' was unexpected"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]},
         "messages.0.content.0: 'text' is a required property"),
        ({"messages": [{"role": "user", "content": [{"type": "image"}]}]},
         "messages.0.content.0.type:"),
        ({"tools": [{"name": "t", "input_schema": {"type": "string"}}]},
         "tools.0.input_schema.type:"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice: 'name' is a required property"),
        ({"messages": [{"role": "assistant", "content": "x"}]},
         "messages.0.role: expected 'user'"),
        ({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
         "messages.1.role: expected 'assistant'"),
    ],
)  # fmt: skip
def test_invalid_requests_name_the_offending_field(change: dict, expected: str) -> None:
    body = {**ask("hi"), **change}
    error = request_error(body)
    assert error is not None
    assert expected in error


def test_missing_model_is_reported() -> None:
    assert request_error({"messages": [{"role": "user", "content": "x"}]}) == (
        "body: 'model' is a required property"
    )


# --- faults -----------------------------------------------------------------------------------


def test_fault_from_camel_or_snake_case() -> None:
    assert Fault.from_dict({"status": 429, "retryAfter": 2, "dropAfter": 3}) == Fault(
        status=429, retry_after=2.0, drop_after=3
    )
    assert Fault.from_dict({"error_event_after": 1, "unknownEvent": True, "toolUse": "t"}) == (
        Fault(error_event_after=1, unknown_event=True, tool_use="t")
    )


@pytest.mark.parametrize(
    "data", [{"stauts": 500}, {"status": 200}, {"delay": "soon"}, {"dropAfter": -1}, []]
)
def test_bad_fault_dicts_are_refused(data: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        Fault.from_dict(data)  # type: ignore[arg-type]


def test_fault_to_dict_round_trips() -> None:
    fault = Fault(status=529, retry_after=1.5, tool_use=True, deltas=10)
    assert Fault.from_dict(fault.to_dict()) == fault
    assert RecordedRequest(fault=fault).to_dict()["fault"] == fault.to_dict()


def test_error_types() -> None:
    assert {status: error_type_for(status) for status in ERROR_TYPES} == ERROR_TYPES
    assert error_type_for(503) == "api_error"
    assert error_type_for(418) == "invalid_request_error"


def test_a_generate_request_gets_a_named_stub_in_the_files_language() -> None:
    from ren_lsp.emulator.replies import reply_text

    body = {"model": "astra", "messages": [{"role": "user", "content": (
        "Generate code: a function that formats an invoice total\n\nBefore:\n\n"
        "```python\nx = 1\n```")}]}
    text = reply_text(body)
    assert "def a_function_that_formats():" in text
    assert "```python" in text and "x = 1" not in text


def test_a_word_inside_the_code_is_not_an_instruction() -> None:
    from ren_lsp.emulator.replies import reply_text

    body = {"model": "astra", "messages": [{"role": "user", "content": (
        "Explain this code.\n\n```python\ndef add_prefix(s):\n    return 'x' + s\n```")}]}
    assert reply_text(body).startswith("**Ren emulator**")
