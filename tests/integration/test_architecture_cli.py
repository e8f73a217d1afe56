"""`ren-lsp architecture [PATH] [--json]` as a user runs it: a real process on a repository the
test writes (a git one, so the listing goes through git as in an editor)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ren_lsp.jsonschemas import validator
from tests.conftest import clean_env

FILES = {
    "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["attrs", "never-imported"]\n'
                      '\n[project.scripts]\nshop = "shop.cli:main"\n',
    "shop/__init__.py": "",
    "shop/cli.py": "import attrs\nfrom shop import orders\n\n\ndef main(): ...\n",
    "shop/orders.py": "import json\nfrom shop import models\n",
    "shop/models.py": "from typing import TYPE_CHECKING\nfrom shop import money\n"
                      "if TYPE_CHECKING:\n    from shop import orders\n",
    "shop/money.py": "\nfrom shop.models import Model\n",
    "tests/test_orders.py": "import pytest\nfrom shop import orders\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "shop-repo"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    return root


def run(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ren_lsp", "architecture", *args], cwd=cwd,
                          env=clean_env(home), capture_output=True, text=True, timeout=120,
                          check=False)


def test_json_has_the_documented_shape(repo: Path, tmp_path: Path) -> None:
    done = run(str(repo), "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    validator("architecture.schema.json").validate(result)
    for key in ("root", "language_of", "modules", "edges", "cycles", "externals",
                "declared_unused", "entry_points"):
        assert key in result
    assert result["root"] == str(repo.resolve())
    assert result["modules"] == sorted(result["language_of"]) and all(
        not m.startswith("/") for m in result["modules"])
    assert set(result["language_of"].values()) == {"python"}
    for edge in result["edges"]:
        assert set(edge) == {"from", "to", "line", "kind"}
        assert edge["kind"] in ("runtime", "type", "lazy") and edge["line"] >= 1
        assert edge["from"] in result["modules"] and edge["to"] in result["modules"]
    (cycle,) = result["cycles"]
    assert cycle["files"] == ["shop/models.py", "shop/money.py"]
    assert {(e["from"], e["to"], e["line"]) for e in cycle["closing_edges"]} == {
        ("shop/models.py", "shop/money.py", 2), ("shop/money.py", "shop/models.py", 2)}
    assert len(cycle["cut"]) == 1 and set(cycle["cut"][0]) == {"from", "to"}
    by_name = {x["name"]: x for x in result["externals"]}
    assert by_name["attrs"] == {"name": "attrs", "kind": "third-party", "declared": True,
                                "used_by": ["shop/cli.py"]}
    assert by_name["json"]["kind"] == "stdlib"
    assert by_name["pytest"]["declared"] is False
    assert result["declared_unused"] == ["never-imported"]
    assert {"file": "shop/cli.py", "why": "[project.scripts] shop = shop.cli:main"} in (
        result["entry_points"])


def test_the_report_in_the_terminal(repo: Path, tmp_path: Path) -> None:
    done = run(home=tmp_path, cwd=repo)  # PATH defaults to the current directory
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Architecture of shop-repo\n")
    assert "1 import cycles at run time" in done.stdout
    assert "Used but not declared: `pytest`." in done.stdout
    assert "ren-lsp: 6 files" in done.stderr


@pytest.mark.parametrize("where", ["missing", "file"])
def test_a_bad_path_says_what_to_do(repo: Path, tmp_path: Path, where: str) -> None:
    path = repo / "nowhere" if where == "missing" else repo / "shop" / "cli.py"
    done = run(str(path), home=tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"ren-lsp: {path} is not a folder: give the folder to analyse\n"
    assert done.stdout == ""


def test_a_folder_without_code_says_so(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("# nothing to analyse\n")
    done = run(str(tmp_path / "docs"), home=tmp_path)
    assert done.returncode == 2 and "no source files to analyse in" in done.stderr
