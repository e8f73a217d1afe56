"""The Astra emulator: a local stand-in for the Ren API, for tests, the demo and benchmarks.

It speaks, on one loopback port, the wire format of `shared/ren-api.md` (`POST /v1/messages`,
also as Anthropic's API with `x-api-key`), OpenAI's (`POST /v1/chat/completions`) and Ollama's
(`POST /api/chat`). It answers with canned, deterministic replies that say they are not AI,
validates each request against `schemas/`, checks the key, can be scripted to misbehave
(`Fault`, one per request) and to hold a multi-turn tool-use conversation (`Step`s).

    async with Emulator(api_key="test-key") as emu:
        emu.script(Fault(status=529), Fault(trickle=0.05, drop_after=5))
        emu.converse([{"tool": "read_file", "input": {"path": "a.py"}},
                      {"text": "The file says: {last_result}"}])
        ...  # point a client at emu.base_url
        assert emu.requests[0].status == 529
"""

from __future__ import annotations

from ren_lsp.emulator.conversation import Step
from ren_lsp.emulator.dialects import MODEL
from ren_lsp.emulator.faults import DIALECTS, Fault, RecordedRequest
from ren_lsp.emulator.server import Emulator, serve_forever

__all__ = ["DIALECTS", "MODEL", "Emulator", "Fault", "RecordedRequest", "Step", "serve_forever"]
