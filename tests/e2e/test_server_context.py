"""Repository context in requests: what is sent, what never is, and the architecture report."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from ren_lsp.emulator import Emulator, Fault
from tests.e2e.conftest import StartEditor
from tests.e2e.test_server import ANSWER, arg, body_of, function_range, output_text

TAX = '''"""Tax rates."""

TAX_RATE = 0.2


def with_tax(amount):
    return round(amount * (1 + TAX_RATE), 2)
'''
SECRET_LINE = 'AWS_SECRET = "AKIAIOSFODNN7EXAMPLE"\n'


@pytest.fixture
def repo(workspace: Path) -> Path:
    """The sample workspace as a git repository with a helper module, an ignored file and
    secrets around."""
    (workspace / "tax.py").write_text(TAX + SECRET_LINE)
    (workspace / "build").mkdir()
    (workspace / "build" / "generated_billing.py").write_text("def invoice_total(): ...\n")
    (workspace / ".gitignore").write_text("notes/\n")
    (workspace / "notes").mkdir()
    (workspace / "notes" / "invoice_total_plan.py").write_text("def invoice_total(): pass\n")
    (workspace / ".env").write_text("REN_API_KEY=sk-in-dotenv-123\n")
    (workspace / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
    (workspace / "billing.py").write_text(
        "from tax import with_tax\n" + (workspace / "billing.py").read_text())
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
    return workspace


async def test_requests_carry_the_right_files_and_never_secrets(
        start_editor: StartEditor, emulator: Emulator, repo: Path) -> None:
    editor = await start_editor()
    await editor.wait_for_progress_end(title="Indexing workspace")
    uri = editor.open(repo / "billing.py", None, "python")
    emulator.script(Fault(text=ANSWER))
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "def with_tax(amount)" in sent  # what billing.py imports
    assert "AKIAIOSFODNN7EXAMPLE" not in sent  # a secret inside a sent file: redacted
    for never in ("generated_billing", "invoice_total_plan", "sk-in-dotenv-123",
                  "PRIVATE KEY", ".env", "id_rsa"):
        assert never not in sent
    # The user sees what left their machine: in the output document and the history.
    out_uri, output = output_text(editor)
    assert "> Context sent to Astra: " in output and "`tax.py`" in output
    assert body_of(output) == ANSWER
    # The note goes out with the answer's first words: sent alone, it would start the
    # batching pause and hold those words back.
    first = next(e for e in editor.applied_edits if out_uri in e.uris).new_texts[0]
    assert first.startswith("> Context sent") and ANSWER[:5] in first


async def test_an_edit_reaches_the_next_request(start_editor: StartEditor, emulator: Emulator,
                                                repo: Path) -> None:
    editor = await start_editor()
    await editor.wait_for_progress_end(title="Indexing workspace")
    tax = editor.open(repo / "tax.py", None, "python")
    editor.type(tax, types.Position(line=7, character=0),
                "\n\ndef with_service_fee(amount):\n    return amount + 1\n")
    uri = editor.open(repo / "billing.py", None, "python")
    await editor.command("ren.ask", {"question": "Where is the service fee added?",
                                     "uri": uri})
    await editor.wait_for_progress_end()
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "with_service_fee" in sent  # from the buffer, not yet saved


async def test_architecture_report_then_commentary(start_editor: StartEditor,
                                                   emulator: Emulator, repo: Path) -> None:
    editor = await start_editor("helix")
    await editor.command("ren.analyzeArchitecture", {})
    _, values = await editor.wait_for_progress_end()
    assert values[0].title == "Astra: Analyze architecture"
    assert values[-1].message.startswith("Done")
    output = output_text(editor)[1]
    assert "# Architecture of the workspace" in output
    assert "`billing.py`: imports 1" in output  # billing imports tax
    assert "## Astra's commentary" in output
    assert output.index("## Astra's commentary") < output.index("**Ren emulator**")
    assert "invoice_total_plan" not in output and "id_rsa" not in output
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "Architecture of the workspace" in sent


async def test_the_local_report_stands_when_astra_is_down(start_editor: StartEditor,
                                                          emulator: Emulator,
                                                          repo: Path) -> None:
    editor = await start_editor(init_options={"maxRetries": 0})
    emulator.script(Fault(status=529))
    await editor.command("ren.analyzeArchitecture", {"path": "."})
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Failed:")
    output = output_text(editor)[1]
    assert "## Packages" in output and "## Cycles" in output


async def test_architecture_of_a_missing_folder_says_so(start_editor: StartEditor,
                                                        emulator: Emulator,
                                                        repo: Path) -> None:
    editor = await start_editor()
    await editor.command("ren.analyzeArchitecture", {"path": "no/such/folder"})
    message = await editor.wait_for_message(lambda m: m.type == types.MessageType.Error)
    assert "no indexed source files under no/such/folder" in message.message
    assert emulator.requests == []


async def test_files_changed_outside_the_editor_are_indexed(
        start_editor: StartEditor, emulator: Emulator, repo: Path) -> None:
    editor = await start_editor()  # VS Code's profile registers file watchers dynamically
    await editor.wait_for_progress_end(title="Indexing workspace")
    (watch,) = [r for r in editor.registrations
                if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert watch.register_options["watchers"][0]["globPattern"] == "**/*"
    # A `git checkout` brings a new module; the editor's watcher reports it.
    (repo / "discounts.py").write_text("def loyalty_discount(total):\n    return total * 0.9\n")
    editor.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(uri=(repo / "discounts.py").as_uri(),
                                 type=types.FileChangeType.Created)]))
    await editor.command("ren.ask", {"question": "How is the loyalty discount computed?"})
    await editor.wait_for_progress_end()
    assert "def loyalty_discount" in emulator.requests[0].body["messages"][0]["content"]


async def test_a_workspace_with_no_folder_still_works(start_editor: StartEditor,
                                                      emulator: Emulator,
                                                      workspace: Path) -> None:
    editor = await start_editor(workspace=None)
    uri = editor.open(workspace / "billing.py", None, "python")
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    with pytest.raises(Exception, match="no workspace folder is open"):
        await editor.command("ren.analyzeArchitecture", {})


async def test_new_secret_patterns_rebuild_the_index(start_editor: StartEditor,
                                                     emulator: Emulator, repo: Path) -> None:
    editor = await start_editor()
    await editor.wait_for_progress_end(title="Indexing workspace")
    editor.change_configuration({"ren": {"secretPatterns": [r"TAX_RATE = (\S+)"]}})
    await editor.wait_for_progress_end(title="Indexing workspace")  # listed and indexed again
    uri = editor.open(repo / "billing.py", None, "python")
    await editor.command("ren.explain", arg(uri, function_range(editor, uri)))
    await editor.wait_for_progress_end()
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "def with_tax(amount)" in sent  # the index still knows the workspace
    assert "TAX_RATE = 0.2" not in sent and "TAX_RATE = <redacted" in sent
    await editor.command("ren.analyzeArchitecture", {})
    await editor.wait_for_progress_end()
    report = output_text(editor)[1]
    assert "`tax.py`" in report and ".md" not in report.split("## Astra's commentary")[0]


async def test_architecture_report_is_grounded(start_editor: StartEditor, emulator: Emulator,
                                               workspace: Path) -> None:
    """Edges by Python's rules, a runtime cycle with its cut, a TYPE_CHECKING cycle left out,
    the manifest checked, entry points declared; Astra told what is approximate."""
    files = {
        "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["attrs", "unused-dist"]\n'
                          '\n[project.scripts]\nshop = "shop.cli:main"\n',
        "shop/__init__.py": "",
        "shop/abc.py": "",
        "shop/cli.py": "from abc import ABC\nimport attrs\nimport requests\n"
                       "from shop import orders\n",
        "shop/orders.py": "from shop import money\n",
        "shop/money.py": "\n\nfrom shop.orders import Order\n",
        "shop/models.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                          "    from shop import cli\n",
        "native/lib.rs": "mod util;\n",
        "native/util.rs": "",
        "CHANGES.rst": "1.0\n",
    }
    for rel, text in files.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text)
    editor = await start_editor()
    await editor.command("ren.analyzeArchitecture", {})
    _, values = await editor.wait_for_progress_end()
    assert values[-1].message.startswith("Done")
    report = output_text(editor)[1].split("## Astra's commentary")[0]
    assert "- `shop/cli.py`: [project.scripts] shop = shop.cli:main" in report
    assert "Breaking 1 import ends it: `shop/money.py:3` → `shop/orders.py`." in report or (
        "Breaking 1 import ends it: `shop/orders.py:1` → `shop/money.py`." in report)
    assert "1 import cycles at run time" in report  # the TYPE_CHECKING one is not
    # `from abc import ABC` is the standard library's, not shop/abc.py
    assert "- `shop/cli.py`: imports 1, imported by 1" in report
    assert "`abc`" in next(line for line in report.splitlines()
                           if line.startswith("Standard library"))
    assert "Used but not declared: `requests`." in report
    assert "imported nowhere (perhaps loaded by name, a plugin or a tool): `unused-dist`" in report
    assert "CHANGES.rst" not in report
    assert "> Approximate: the imports of rust files are matched by path" in report
    sent = emulator.requests[0].body["messages"][0]["content"]
    assert "Breaking 1 import ends it" in sent and "approximate" in sent
