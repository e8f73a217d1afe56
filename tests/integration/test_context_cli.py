"""`ren-lsp context` as a user and the evaluation run it: a real process, on a temporary
repository (git and plain), printing exactly {files: [{path, score, kind, reasons}], tokens,
context}."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ren_lsp.context.kinds import KINDS
from tests.context_repo import READABLE, SECRET_VALUES, write_repo


def run(*args: str, home: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REN_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"))
    return subprocess.run([sys.executable, "-m", "ren_lsp", "context", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(params=["git", "plain"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop", use_git=request.param == "git")


def check_shape(output: str) -> dict:
    result = json.loads(output)
    assert list(result) == ["files", "tokens", "context"]
    assert isinstance(result["tokens"], int) and isinstance(result["context"], str)
    scores = []
    for entry in result["files"]:
        assert list(entry) == ["path", "score", "kind", "reasons"]
        assert isinstance(entry["path"], str) and isinstance(entry["score"], int | float)
        assert entry["kind"] in KINDS
        assert isinstance(entry["reasons"], list)
        assert all(isinstance(reason, str) for reason in entry["reasons"])
        assert not entry["path"].startswith("/") and "\\" not in entry["path"]
        scores.append(entry["score"])
    assert scores == sorted(scores, reverse=True)  # best first
    return result


def test_json_for_a_question(repo: Path, tmp_path: Path) -> None:
    done = run("how is an amount rounded to whole cents", "--workspace", str(repo), "--json",
               home=tmp_path)
    assert done.returncode == 0, done.stderr
    result = check_shape(done.stdout)
    assert result["files"][0]["path"] == "app/money.py"
    assert {f["path"] for f in result["files"]} <= set(READABLE)
    assert 0 < result["tokens"] <= 6000
    assert "def round_cents" in result["context"]


def test_json_for_a_selection_in_a_file_with_a_budget(repo: Path, tmp_path: Path) -> None:
    done = run("explain this", "--file", "app/billing.py", "--lines", "12-13", "--budget", "400",
               "--json", home=tmp_path, cwd=repo)
    assert done.returncode == 0, done.stderr
    result = check_shape(done.stdout)
    assert [f["path"] for f in result["files"][:2]] == ["app/billing.py", "app/money.py"]
    assert result["files"][0]["reasons"] == ["current file"]
    assert result["tokens"] <= 400


def test_secrets_never_reach_the_output(repo: Path, tmp_path: Path) -> None:
    done = run("database password settings and tokens", "--workspace", str(repo), "--json",
               "--budget", "20000", home=tmp_path)
    result = check_shape(done.stdout)
    for value in SECRET_VALUES:
        assert value not in done.stdout
    assert "<redacted:" in result["context"]


def test_plain_output_and_the_cache(repo: Path, tmp_path: Path) -> None:
    first = run("prices", "--workspace", str(repo), home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Repository map")
    assert "files ranked" in first.stderr
    assert any((tmp_path / "cache" / "ren-lsp" / "context").iterdir())
    second = run("prices", "--workspace", str(repo), home=tmp_path)
    assert second.stdout == first.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["q", "--workspace", "/nonexistent/folder"], "is not a folder"),
    (["q", "--file", "missing.py"], "is not a file"),
    (["q", "--lines", "3-4"], "--lines needs --file"),
    (["q", "--file", "app/money.py", "--lines", "x"], "--lines takes A-B"),
    (["q", "--budget", "0"], "--budget must be at least 1"),
])
def test_bad_arguments_are_explained(repo: Path, tmp_path: Path, args: list[str],
                                     message: str) -> None:
    done = run(*args, home=tmp_path, cwd=repo)
    assert done.returncode == 2 and message in done.stderr


def test_help(tmp_path: Path) -> None:
    done = run("--help", home=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("usage: ren-lsp context")
    assert "--json" in done.stdout and "--budget" in done.stdout


def test_a_changelog_is_not_code_unless_the_request_is_about_it(tmp_path: Path) -> None:
    root = write_repo(tmp_path / "shop", use_git=True)
    # a changelog repeats every feature's words, more often than the code does
    (root / "CHANGELOG.md").write_text(
        "# Changes\n\n- invoices are now stored with their totals; stored invoices load\n"
        "- storing invoices: totals of invoices rounded when stored\n", encoding="utf-8")
    code = check_shape(run("fix the totals when invoices are stored", "--workspace", str(root),
                           "--json", home=tmp_path).stdout)
    paths = [f["path"] for f in code["files"]]
    assert "app/storage.py" in paths[:3]
    assert all(f["kind"] == "source" for f in code["files"] if f["path"].startswith("app/"))
    # still listed, said to be documentation, after all the code
    entry = code["files"][paths.index("CHANGELOG.md")]
    assert entry["kind"] == "doc"
    assert "documentation, ranked lower: the request is not about it" in entry["reasons"]
    assert all(f["kind"] != "source" for f in code["files"][paths.index("CHANGELOG.md"):])
    docs = check_shape(run("what does the changelog say about stored invoices", "--workspace",
                           str(root), "--json", home=tmp_path).stdout)
    assert docs["files"][0]["path"] == "CHANGELOG.md"
    assert docs["files"][0]["kind"] == "doc"
