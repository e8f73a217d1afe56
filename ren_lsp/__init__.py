"""ren-lsp: Astra, the coding model behind the Ren API, in any editor that speaks LSP."""

__version__ = "0.1.0"
