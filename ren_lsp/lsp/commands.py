"""Registering a `ren.*` workspace command: its argument class, its checks, its handler.

Editors time requests out (Helix after 20 s) and drop late answers, so every command returns
as soon as its argument is checked (``{"session": id}``); the result arrives through progress,
edits and messages. The argument is checked against ``schemas/commands.schema.json`` (so a
bad one is an InvalidParams error naming the field), then structured into the command's own
attrs class by lsprotocol's converter (ranges, positions and diagnostics become lsprotocol
types). Each feature module registers its commands with ``register_command``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ren_lsp.lsp.documents import converter, invalid

if TYPE_CHECKING:
    from ren_lsp.lsp.protocol import Server

SCHEMA = "commands.schema.json"
A = TypeVar("A")


def check_argument(command: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """The command's one argument object, checked against `schemas/commands.schema.json`."""
    from jsonschema.exceptions import best_match  # on first use: jsonschema is slow to import

    from ren_lsp import jsonschemas

    schema = jsonschemas.load(SCHEMA)["commands"][command]
    fields = ", ".join(f"{k}{'' if k in schema.get('required', []) else '?'}"
                       for k in schema["properties"])
    if len(args) == 0 and not schema.get("required"):
        return {}
    if len(args) != 1 or not isinstance(args[0], dict):
        raise invalid(f"{command} takes one argument, an object {{{fields}}}; got "
                      f"{len(args)} argument(s)")
    error = best_match(jsonschemas.validator(SCHEMA, f"commands/{command}").iter_errors(args[0]))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        raise invalid(f"{command}: {path + ': ' if path else ''}{error.message} "
                      f"(the argument is {{{fields}}})")
    return args[0]


def structure(raw: dict[str, Any], cls: type[A]) -> A:
    """A checked argument as the command's class (lsprotocol's converter, camelCase aware)."""
    return converter().structure(raw, cls)


def register_command(server: Server, name: str, args: type[A],
                     handler: Callable[[Server, A], dict[str, Any]]) -> None:
    """Serve ``workspace/executeCommand`` ``name``: check, structure, run ``handler``."""

    # pygls 2 passes the command's arguments positionally; we take them raw and check them
    # against the schema ourselves, so errors name the field the user got wrong.
    # No annotations on `run`: pygls resolves them at call time.
    def run(ls, *raw):
        return handler(ls, structure(check_argument(name, raw), args))

    run.__name__ = name.replace(".", "_")
    server.command(name)(run)
