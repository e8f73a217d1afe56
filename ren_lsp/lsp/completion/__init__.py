"""Inline completion's parts: the place at the cursor and the cache (``cursor``), the syntax
there (``syntax``, tree-sitter), the answer's shaping (``shaping``, pure) and the engine that
keeps it fresh and quiet (``engine``). The LSP handler is ``lsp/features/completion.py``."""
