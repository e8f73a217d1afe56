"""Where the JSON Schemas in `schemas/` are, and their validators (loaded once)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator


def schema_dir() -> Path:
    """Inside the installed package, else the checkout's top-level `schemas/`."""
    # The wheel force-includes the top-level schemas/ as ren_lsp/schemas/ (pyproject.toml).
    packaged = Path(__file__).resolve().parent / "schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[1] / "schemas"


@functools.cache
def load(name: str) -> dict[str, Any]:
    """A schema file, parsed."""
    schema: dict[str, Any] = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
    return schema


@functools.cache
def validator(name: str, pointer: str = "") -> Draft202012Validator:
    """A validator for a schema file, or for a sub-schema at a `/`-separated ``pointer``.

    A sub-schema keeps the file's `$defs`, so its `$ref`s resolve.
    """
    schema = load(name)
    Draft202012Validator.check_schema(schema)  # a broken schema fails loudly, once
    if pointer:
        sub = schema
        for part in pointer.strip("/").split("/"):
            sub = sub[part]
        schema = {**sub, "$defs": schema.get("$defs", {})}
    return Draft202012Validator(schema)
