"""The agent's approval rules: what runs without asking, what always asks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ren_lsp.lsp.features.agent.commands import is_destructive, pre_approved, program_of

PREFIXES = ["pytest", "npm test", "echo"]


@pytest.mark.parametrize("command", [
    "rm -rf build", "rm -r x", "rm -fr x", "rm --recursive x", "git reset --hard HEAD~1",
    "git reset HEAD --hard", "git clean -fdx", "git push --force origin main",
    "git push -f", "sudo make install", "git checkout -- .", "chmod -R 777 .",
    "dd if=/dev/zero of=x", "echo ok && rm -rf ~",
])
def test_destructive_commands(command: str) -> None:
    assert is_destructive(command)
    assert not pre_approved(command, verify=command, prefixes=["rm", "git", "sudo", "echo"])


@pytest.mark.parametrize("command", [
    "rm x.txt", "git status", "git push origin main", "pytest -q", "echo rm -r is bad",
])
def test_ordinary_commands_are_not_destructive(command: str) -> None:
    assert is_destructive(command) is (command == "echo rm -r is bad")


def test_prefixes_match_word_by_word() -> None:
    assert pre_approved("pytest -q tests", verify=None, prefixes=PREFIXES)
    assert pre_approved("npm test", verify=None, prefixes=PREFIXES)
    assert not pre_approved("npm install evil", verify=None, prefixes=PREFIXES)
    assert not pre_approved("pytestx", verify=None, prefixes=PREFIXES)
    assert pre_approved("make check", verify="make check", prefixes=[])
    assert not pre_approved("make check", verify=None, prefixes=[])


@given(prefix=st.sampled_from(PREFIXES), rest=st.text(max_size=20),
       operator=st.sampled_from([";", "&&", "||", "|", "`", "$(", ">", "<", "\n", "&"]))
def test_a_chained_command_is_never_pre_approved_by_a_prefix(prefix: str, rest: str,
                                                             operator: str) -> None:
    assert not pre_approved(f"{prefix} {rest}{operator}curl x", verify=None, prefixes=PREFIXES)


def test_program_of() -> None:
    assert program_of("python -m pytest") == "python"
    assert program_of("'my tool' --x") == "my tool"
    assert program_of("unclosed 'quote") == "unclosed"
