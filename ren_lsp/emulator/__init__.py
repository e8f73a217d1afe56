"""The Astra emulator: a local stand-in for the Ren API, for tests, the demo and benchmarks.

It speaks the wire format of `shared/ren-api.md` on a loopback port, answers with canned,
deterministic replies that say they are not AI, validates each request against `schemas/`,
checks the bearer key, and can be scripted to misbehave (`Fault`).

    async with Emulator(api_key="test-key") as emu:
        emu.script(Fault(status=529), Fault(trickle=0.05, drop_after=5))
        ...  # point a client at emu.base_url
        assert emu.requests[0].status == 529
"""

from __future__ import annotations

from ren_lsp.emulator.faults import Fault, RecordedRequest
from ren_lsp.emulator.server import Emulator, serve_forever

__all__ = ["Emulator", "Fault", "RecordedRequest", "serve_forever"]
