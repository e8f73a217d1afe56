"""The baseline for inline completion: a bare pygls 2 server that answers
textDocument/inlineCompletion by streaming one request to the model (the emulator at
REN_BASE_URL, over httpx) and returning its text as is: no debounce, no cache, no context,
no shaping. What ren-lsp adds on top of this is its overhead."""

from __future__ import annotations

import json
import os

import httpx
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-completion", "0")
http = httpx.AsyncClient(base_url=os.environ["REN_BASE_URL"], timeout=30)


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
async def complete(ls: LanguageServer, params: types.InlineCompletionParams
                   ) -> types.InlineCompletionList:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    offset = doc.offset_at_position(params.position)
    text = f"<FILE>\n{doc.source[:offset]}<CURSOR>{doc.source[offset:]}\n</FILE>"
    body = {"model": "astra", "stream": True, "max_tokens": 48,
            "messages": [{"role": "user", "content": text}]}
    answer = []
    async with http.stream("POST", "/v1/messages", json=body, headers={
            "Authorization": f"Bearer {os.environ['REN_API_KEY']}"}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                if event.get("type") == "content_block_delta":
                    answer.append(event["delta"].get("text", ""))
    return types.InlineCompletionList(items=[types.InlineCompletionItem(
        insert_text="".join(answer),
        range=types.Range(start=params.position, end=params.position))])


server.start_io()
