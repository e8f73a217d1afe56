"""A ren-lsp server built by `create_server(model_factory=...)`, as an embedding program or a
test builds one: its model is an OpenAI-compatible client at the URL in argv[1], whatever the
settings say (the key comes from the environment, never the command line)."""

from __future__ import annotations

import os
import sys

from ren_lsp.config import Settings
from ren_lsp.lsp.server import create_server
from ren_lsp.models import dialect
from ren_lsp.models.client import HTTPModelClient


def factory(settings: Settings, role: str) -> HTTPModelClient:
    return HTTPModelClient(dialect("openai"), base_url=sys.argv[1], model="astra",
                           api_key=os.environ["FACTORY_KEY"])


if __name__ == "__main__":
    create_server(model_factory=factory).start_io()
