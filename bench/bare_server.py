"""The baseline for startup: a pygls 2 server with no features at all."""

from pygls.lsp.server import LanguageServer

LanguageServer("bare", "0").start_io()
