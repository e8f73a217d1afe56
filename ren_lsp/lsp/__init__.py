"""The language server: the LSP core (server wiring, sessions, progress, output documents, the
edit service, the index service, commands) and, under ``features/``, what users run.

Imports point down: ``server`` wires ``features``; features use ``sessions``, ``edits``,
``documents`` and ``commands``, typed against the small ``protocol.Server``, never ``server``.
"""
