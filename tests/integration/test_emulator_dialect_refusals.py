"""The emulator's refusals in every dialect, over a real loopback socket: keys, schemas, models.

Each refusal comes with the dialect's own error body (`tests/dialect_wire.error_message` checks
its shape) and a message that names the field, header or model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from ren_lsp.emulator import Emulator
from tests.dialect_wire import DIALECTS, PATHS, Caller, error_message, headers, request

KEY = "sk-ren-test-refusals-51d7"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_key=KEY) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def api(http: httpx.AsyncClient, emu: Emulator) -> Caller:
    return Caller(http, emu, KEY)


# --- keys -------------------------------------------------------------------------------------


async def test_anthropic_needs_its_version_header(http: httpx.AsyncClient, emu: Emulator) -> None:
    body = request("anthropic", "hi", stream=False)
    response = await http.post(emu.base_url + "/v1/messages", json=body, headers={"x-api-key": KEY})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "anthropic-version: header is required" in error_message("anthropic", response.json())
    assert emu.requests[0].dialect == "anthropic"
    assert emu.requests[0].headers["x-api-key"] == "***"


async def test_anthropic_keys(api: Caller, http: httpx.AsyncClient) -> None:
    body = request("anthropic", "hi", stream=False)
    wrong = await api.post("anthropic", body, key="sk-wrong")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "authentication_error"
    missing = await api.post("anthropic", body, key=None)
    assert missing.status_code == 401
    assert "x-api-key" in error_message("anthropic", missing.json())
    assert (await api.post("anthropic", body)).status_code == 200
    assert [r.dialect for r in api.emu.requests] == ["anthropic"] * 3

    async with Emulator() as keyless:  # no key configured: a local server needs none
        assert (await Caller(http, keyless).post("anthropic", body)).status_code == 200
        assert keyless.requests[0].dialect == "anthropic"
        assert "x-api-key" not in keyless.requests[0].headers


async def test_a_bearer_key_on_v1_messages_is_ren(api: Caller) -> None:
    body = request("ren", "hi", stream=False)
    assert (await api.post("ren", body)).status_code == 200
    assert (await api.post("ren", body, key="sk-wrong")).status_code == 401
    missing = await api.post("ren", body, key=None)
    assert "Missing API key" in error_message("ren", missing.json())
    assert [r.dialect for r in api.emu.requests] == ["ren"] * 3


async def test_openai_keys(api: Caller, http: httpx.AsyncClient) -> None:
    body = request("openai", "hi", stream=False)
    for key in ("sk-wrong", None):
        response = await api.post("openai", body, key=key)
        assert response.status_code == 401
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_api_key")
        assert "API key" in error_message("openai", response.json())
    assert (await api.post("openai", body)).status_code == 200

    async with Emulator() as keyless:  # no key configured: none needed, any accepted
        for key in (None, "sk-anything"):
            assert (await Caller(http, keyless, key).post("openai", body)).status_code == 200
        assert "authorization" not in keyless.requests[0].headers


async def test_ollama_needs_no_key_and_ignores_one(api: Caller, http: httpx.AsyncClient) -> None:
    body = request("ollama", "hi", stream=False)
    assert (await api.post("ollama", body)).status_code == 200
    response = await http.post(
        api.emu.base_url + "/api/chat", json=body, headers={"Authorization": "Bearer junk"}
    )
    assert response.status_code == 200
    assert "authorization" not in api.emu.requests[0].headers
    assert api.emu.requests[1].headers["authorization"] == "Bearer ***"


# --- bodies -----------------------------------------------------------------------------------

USER = {"role": "user", "content": "x"}


def _call(arguments: str, call_id: str = "c1") -> dict[str, Any]:
    return {
        "role": "assistant",
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": "f", "arguments": arguments}}
        ],
    }


@pytest.mark.parametrize(
    ("dialect", "body", "expected"),
    [
        (
            "openai",
            {"messages": [{"role": "bot", "content": "x"}]},
            "messages.0.role: 'bot' is not one of",
        ),
        (
            "openai",
            {"messages": [USER], "max_tokens": 0},
            "max_tokens: 0 is less than the minimum of 1",
        ),
        ("openai", {"messages": [USER], "stream_option": {}}, "'stream_option' was unexpected"),
        (
            "openai",
            {"messages": [{"role": "user", "content": None}]},
            "messages.0.content: None is not of type 'string'",
        ),
        (
            "openai",
            {
                "messages": [
                    USER,
                    _call("{not json"),
                    {"role": "tool", "tool_call_id": "c1", "content": "r"},
                ]
            },
            "messages.1.tool_calls.0.function.arguments: not valid JSON",
        ),
        (
            "openai",
            {
                "messages": [
                    USER,
                    _call("[1]"),
                    {"role": "tool", "tool_call_id": "c1", "content": "r"},
                ]
            },
            "messages.1.tool_calls.0.function.arguments: must be a JSON object",
        ),
        (
            "openai",
            {"messages": [USER, _call("{}"), USER]},
            "messages.1.tool_calls: the tool call 'c1' has no 'tool' message answering it",
        ),
        (
            "openai",
            {"messages": [USER, _call("{}")]},
            "the tool call 'c1' has no 'tool' message answering it",
        ),
        (
            "openai",
            {"messages": [{"role": "tool", "tool_call_id": "c9", "content": "r"}]},
            "messages.0.tool_call_id: 'c9' answers no tool call",
        ),
        ("ollama", {"messages": []}, "messages: [] should be non-empty"),
        (
            "ollama",
            {"messages": [USER], "options": {"num_ctx": "big"}},
            "options.num_ctx: 'big' is not of type 'integer'",
        ),
        ("ollama", {"messages": [USER], "keepalive": "5m"}, "'keepalive' was unexpected"),
        (
            "ollama",
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
                    }
                ]
            },
            "messages.0.tool_calls.0.function.arguments: '{}' is not of type 'object'",
        ),
    ],
)
async def test_schema_refusals(
    api: Caller, dialect: str, body: dict[str, Any], expected: str
) -> None:
    body = {"model": "astra", **body}
    response = await api.post(dialect, body)

    assert response.status_code == 400
    message = error_message(dialect, response.json())
    assert expected in message and "(Ren emulator)" in message
    if dialect == "openai":
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == message.split(":")[0]  # the field, as OpenAI names it
    record = api.emu.requests[0]
    assert (record.body, record.internal, record.status) == (body, None, 400)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_unparseable_json_is_400(
    http: httpx.AsyncClient, emu: Emulator, dialect: str
) -> None:
    response = await http.post(
        emu.base_url + PATHS[dialect], content=b'{"model": ', headers=headers(dialect, KEY)
    )
    assert response.status_code == 400
    assert "body: not valid JSON" in error_message(dialect, response.json())
    assert emu.requests[0].body is None


@pytest.mark.parametrize(
    ("dialect", "message"),
    [
        ("ren", "model: 'astra-xl' not found; the Ren emulator serves 'astra'"),
        ("anthropic", "model: 'astra-xl' not found; the Ren emulator serves 'astra'"),
        ("openai", "The model `astra-xl` does not exist"),
        ("ollama", 'model "astra-xl" not found, try pulling it first'),
    ],
)
async def test_unknown_model_is_404(api: Caller, dialect: str, message: str) -> None:
    response = await api.post(dialect, request(dialect, "hi", stream=True, model="astra-xl"))
    assert response.status_code == 404
    assert error_message(dialect, response.json()) == message
    if dialect == "openai":
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("invalid_request_error", "model_not_found")
    if dialect in ("ren", "anthropic"):
        assert response.json()["error"]["type"] == "not_found_error"


async def test_unknown_path_names_every_route(http: httpx.AsyncClient, emu: Emulator) -> None:
    for path in ("/v1/completions", "/api/generate"):
        response = await http.post(emu.base_url + path, json={})
        assert response.status_code == 404
        message = response.json()["error"]["message"]
        assert "/v1/messages, /v1/chat/completions and /api/chat" in message
    assert emu.requests == []  # not a model request


async def test_ollama_num_ctx_and_options_are_recorded(
    api: Caller, http: httpx.AsyncClient
) -> None:
    options = {"num_ctx": 32768, "num_predict": 50, "stop": ["\n\n"], "top_k": 20}
    assert (
        await api.post("ollama", request("ollama", "hi", stream=False, options=options))
    ).status_code == 200
    record = api.emu.requests[0]
    assert record.num_ctx == 32768
    assert record.internal is not None
    assert (record.internal["max_tokens"], record.internal["stop_sequences"]) == (50, ["\n\n"])
    dumped = (await http.get(api.emu.base_url + "/_emulator/requests")).json()
    assert (dumped[0]["num_ctx"], dumped[0]["dialect"], dumped[0]["path"]) == (
        32768,
        "ollama",
        "/api/chat",
    )

    await api.post("ollama", request("ollama", "hi", stream=False))
    await api.post("openai", request("openai", "hi", stream=False))
    assert [r.num_ctx for r in api.emu.requests[1:]] == [None, None]
