"""The text around a pull request: Astra's answer cleaned, branch names, remotes, diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ren_lsp.forge.remote import (
    Remote,
    RemoteError,
    api_url,
    check_transport,
    parse_remote_url,
    provider_for,
)
from ren_lsp.forge.text import (
    bounded_diff,
    clean_message,
    fallback_message,
    find_template,
    limit_subject,
    parse_preview,
    slug,
    unique_branch,
)


@pytest.mark.parametrize("answer", [
    "Fix rounding of totals\n\nRound once, at the end.",
    "Here is a commit message:\n\nFix rounding of totals\n\nRound once, at the end.",
    "Sure! Here's the commit message:\n```text\nFix rounding of totals\n\nRound once, at the "
    "end.\n```\nLet me know if you want changes.",
    '"Fix rounding of totals"\n\nRound once, at the end.',
    "Subject: Fix rounding of totals\n\nRound once, at the end.",
    "**Title:** Fix rounding of totals\n\n**Description:**\nRound once, at the end.",
    "# Fix rounding of totals\n\nRound once, at the end.\n\nI hope this helps!",
])
def test_chatter_quotes_and_fences_are_removed(answer: str) -> None:
    assert clean_message(answer) == ("Fix rounding of totals", "Round once, at the end.")


@pytest.mark.parametrize("answer", ["", "  \n", "Sure!", "```\n```", "Here is the commit "
                                    "message:\n\n```\n```"])
def test_nothing_usable_is_none(answer: str) -> None:
    assert clean_message(answer) is None


def test_a_long_subject_is_cut_and_the_rest_kept() -> None:
    long = ("Make the invoice formatter handle every currency the shop sells in, including "
            "the ones without decimals")
    subject, more = limit_subject(long)
    assert len(subject) <= 72 and subject.endswith("…") and more.startswith("…")
    assert subject[:-1] + " " + more[1:] == long


def test_fallback_names_the_files() -> None:
    subject, body = fallback_message(["b.py", "a/c.py"])
    assert subject == "Update 2 files: c.py, b.py"
    assert body == "Changed files:\n\n- `a/c.py`\n- `b.py`"


def test_slugs_and_unique_names() -> None:
    assert slug("Fix the café's rounding: totals (again)!") == "fix-the-cafes-rounding-totals-again"
    assert slug("!!!") == "changes"
    assert len(slug("word " * 40)) <= 40
    assert unique_branch("ren/x", {"main", "ren/x", "ren/x-2"}) == "ren/x-3"


def test_a_huge_diff_is_summarised_per_file() -> None:
    files = [f"diff --git a/f{i}.py b/f{i}.py\n" + "+line\n" * 5000 for i in range(3)]
    diff = "".join(files)
    out = bounded_diff(diff, " f0.py | 5000 +\n", budget=6000)
    assert len(out) < 6500
    assert all(f"diff --git a/f{i}.py" in out for i in range(3))
    assert bounded_diff("small", "") == "small"


def test_the_template_and_the_preview(tmp_path: Path) -> None:
    assert find_template(tmp_path) is None
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "pull_request_template.md").write_text("## Why\n")
    assert find_template(tmp_path) == "## Why"
    assert parse_preview("# Title here\n\nBody\n") == ("Title here", "Body")
    assert parse_preview("\n# T\n") == ("T", "")
    assert parse_preview("No heading\n# T") is None


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/acme/shop.git", Remote("github.com", "acme", "shop")),
    ("git@github.com:acme/shop.git", Remote("github.com", "acme", "shop")),
    ("ssh://git@git.corp.example:2222/acme/shop", Remote("git.corp.example", "acme", "shop")),
    ("https://gitlab.com/group/sub/shop.git", Remote("gitlab.com", "group/sub", "shop")),
    ("http://127.0.0.1:8080/acme/shop.git", Remote("127.0.0.1:8080", "acme", "shop", "http")),
])
def test_remote_urls(url: str, expected: Remote) -> None:
    assert parse_remote_url(url) == expected


def test_local_paths_are_not_forges() -> None:
    with pytest.raises(RemoteError, match="local path"):
        parse_remote_url("/srv/git/shop.git")


def test_providers_and_api_urls() -> None:
    github = parse_remote_url("git@github.com:acme/shop.git")
    enterprise = parse_remote_url("https://git.corp.example/acme/shop.git")
    gitlab = parse_remote_url("https://gitlab.example.org/acme/shop.git")
    codeberg = parse_remote_url("https://codeberg.org/acme/shop.git")
    assert [provider_for(r, None) for r in (github, enterprise, gitlab, codeberg)] == [
        "github", "github", "gitlab", "gitea"]
    assert provider_for(enterprise, "gitea") == "gitea"
    assert api_url(github, "github", None) == "https://api.github.com"
    assert api_url(enterprise, "github", None) == "https://git.corp.example/api/v3"
    assert api_url(gitlab, "gitlab", None) == "https://gitlab.example.org/api/v4"
    assert api_url(codeberg, "gitea", None) == "https://codeberg.org/api/v1"
    assert api_url(github, "github", "https://ghe.example/api/v3/") == "https://ghe.example/api/v3"


def test_tokens_go_over_https_or_to_this_machine_only() -> None:
    check_transport("https://forge.invalid/api/v3")
    check_transport("http://127.0.0.1:3000/api/v1")
    check_transport("http://[::1]:3000/api/v1")
    with pytest.raises(RemoteError, match="not https"):
        check_transport("http://forge.invalid/api/v3")
