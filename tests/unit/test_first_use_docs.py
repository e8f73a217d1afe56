"""First use, as the docs and the schema tell it (issue 14): every number has a range, in the
schema and in the model alike (point 9), and every install line is the one the README runs
(point 10)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from ren_lsp.config import Settings, load_settings, wire_name

ROOT = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = json.loads((ROOT / "schemas" / "settings.schema.json").read_text())
NUMBERS = {key: prop for key, prop in SCHEMA["properties"].items()
           if {"integer", "number"} & set(prop["type"] if isinstance(prop["type"], list)
                                          else [prop["type"]])}
FIELD = {wire_name(f.name): f.name for f in attrs.fields(Settings)}


def test_every_number_has_a_range_in_the_schema() -> None:
    assert "maxTokens" in NUMBERS
    for key, prop in NUMBERS.items():
        assert "minimum" in prop or "exclusiveMinimum" in prop, key
        assert "maximum" in prop, key


@pytest.mark.parametrize("key", sorted(NUMBERS))
def test_the_model_keeps_to_the_schema_s_range(key: str) -> None:
    prop = NUMBERS[key]
    name = FIELD[key]
    default = getattr(Settings(), name)
    high = prop["maximum"]
    at_max = load_settings(env={}, config_path=Path("/dev/null"),
                           editor_layers=[("initializationOptions", {key: high})])
    assert at_max.problems == [] and getattr(at_max.settings, name) == high
    above = high + 1 if prop["type"] == "integer" else high * 2
    resolved = load_settings(env={}, config_path=Path("/dev/null"),
                             editor_layers=[("initializationOptions", {key: above})])
    [problem] = resolved.problems
    assert problem.startswith(f"{key} in initializationOptions: expected ")
    assert getattr(resolved.settings, name) == default  # the default, never the value sent


INSTALL = re.compile(r"(?:pipx|uv tool|pip) install\s+(\S+)")
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md",
        *[p for p in (ROOT / "editors").rglob("*")
          if p.suffix in {".md", ".lua", ".ts", ".mjs", ".toml", ".vim", ".txt"}
          and "node_modules" not in p.parts]]


def test_no_doc_installs_a_package_that_does_not_exist() -> None:
    """ren-lsp is not on PyPI: no install line names it as a package (`pipx install ren-lsp`);
    they name a checkout (.), a wheel or a path."""
    seen = []
    for path in DOCS:
        for target in INSTALL.findall(path.read_text(encoding="utf-8", errors="replace")):
            target = target.strip("`'\",;).")
            seen.append(target)
            assert not re.fullmatch(r"(?i)ren[-_]lsp(\[[^]]*\])?([=<>~!].*)?", target), \
                f"{path.relative_to(ROOT)}: install {target}"
    assert seen


def test_the_readme_says_pipx_install_dot_from_a_checkout() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "\npipx install .\n" in readme
    for doc in ("editors/nvim/README.md", "editors/helix/README.md"):
        assert "`pipx install .`" in (ROOT / doc).read_text(encoding="utf-8"), doc
