"""The Ren API: the Messages format (``ren-api.md``) with a bearer key."""

from __future__ import annotations

from ren_lsp.models.messages import MessagesDialect

KEY_HELP = (
    "set REN_API_KEY, or apiKeyCommand in the ren-lsp config.toml, or apiKey in your "
    "editor's ren-lsp settings (VS Code: \"Ren: Set API key\") or in the config.toml (run "
    "`ren-lsp doctor` to see where settings come from)"
)


class RenDialect(MessagesDialect):
    name = "ren"
    service = "the Ren API"
    speaker = "Astra"
    key_env = "REN_API_KEY"
    # The Ren API (and its emulator) always checks the key, wherever it runs.
    key_on_loopback = True
    default_base_url = "https://api.ren.ai"
    default_model = "astra"

    def key_help(self) -> str:
        return KEY_HELP

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
