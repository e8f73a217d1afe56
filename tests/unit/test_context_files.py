"""Which files the context engine may read: git and plain listings, ignore files, the default
exclusions, and secret files that are never read whatever the ignore files say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ren_lsp.context import files, is_secret_file, patterns
from ren_lsp.context.files import SECRET_FILES, list_files, rules_for
from tests.context_repo import LISTED, write_repo


@pytest.fixture(params=["git", "plain"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_repo(tmp_path / "shop", use_git=request.param == "git")


def test_a_listing_holds_the_readable_files_and_nothing_else(repo: Path) -> None:
    listing = list_files(repo)
    assert listing.git == (repo / ".git").exists()
    assert listing.files == LISTED
    assert listing.skipped["secret"] >= (5 if listing.git else 0)
    assert listing.skipped.get("too large") == 1  # big.txt


def test_untracked_files_that_are_not_ignored_are_listed(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=True)
    (repo / "app" / "new_module.py").write_text("X = 1\n")
    (repo / "generated" / "more.py").write_text("Y = 1\n")
    files = list_files(repo).files
    assert "app/new_module.py" in files and "app/reports.py" in files
    assert "generated/more.py" not in files


def test_nested_gitignore_and_negation_in_a_plain_walk(tmp_path: Path) -> None:
    for rel, text in {".gitignore": "*.tmp\nlogs/\n", "pkg/.gitignore": "!keep.tmp\nlocal.py\n",
                      "pkg/keep.tmp": "", "pkg/drop.tmp": "", "pkg/local.py": "",
                      "pkg/main.py": "", "logs/a.txt": "", "pkg/logs/b.txt": ""}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert list_files(tmp_path).files == [".gitignore", "pkg/.gitignore", "pkg/keep.tmp",
                                          "pkg/main.py"]


def test_renignore_and_the_ignore_files_setting_apply_in_git_too(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=True)
    files = list_files(repo, extra_ignores=["web/", "*.go"]).files
    assert not any(f.startswith(("web/", "docs/private/")) or f.endswith(".go") for f in files)
    assert "app/billing.py" in files


def test_a_folder_the_enclosing_repository_ignores_is_walked(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=True)
    (repo / ".gitignore").write_text("outside/\n")
    (repo / "outside").mkdir()
    (repo / "outside" / "tool.py").write_text("def tool(): pass\n")
    assert list_files(repo / "outside").files == ["tool.py"]


@pytest.mark.parametrize("use_git", [True, False])
def test_secret_files_stay_out_whatever_the_ignore_files_say(tmp_path: Path,
                                                            use_git: bool) -> None:
    repo = write_repo(tmp_path / "shop", use_git=use_git)
    (repo / ".renignore").write_text("!.env\n!*.pem\n!deploy/\n")
    (repo / ".gitignore").write_text("!.env\n")
    files = list_files(repo).files
    for secret in (".env", "config/credentials.json", "deploy/id_rsa", "certs/server.pem",
                   ".npmrc"):
        assert secret not in files
    rules = rules_for(repo)
    assert rules.check(repo / ".env") == "secret"
    assert rules.check(repo / "app" / "billing.py") is None


def test_more_secret_files_from_the_setting_and_lifting_a_default(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=False)
    (repo / "vault.cfg").write_text("x\n")
    (repo / "certs" / "public.crt").write_text("CERT\n")
    files = list_files(repo, extra_secrets=["*.cfg", "!*.crt"]).files
    assert "vault.cfg" not in files
    assert "certs/public.crt" in files and "certs/server.pem" not in files


def test_links_to_secrets_or_out_of_the_workspace_are_not_followed(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=False)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("OUTSIDE = 1\n")
    os.symlink(repo / ".env", repo / "app" / "config.py")
    os.symlink(outside, repo / "app" / "linked.py")
    os.symlink(repo / "app" / "money.py", repo / "app" / "money_link.py")
    files = list_files(repo).files
    assert "app/config.py" not in files and "app/linked.py" not in files
    assert "app/money_link.py" in files
    assert rules_for(repo).check(repo / "app" / "config.py") == "secret"


def test_a_file_the_editor_opens_is_checked_like_a_listed_one(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "shop", use_git=True)
    rules = rules_for(repo)
    assert rules.check(repo / "debug.log") == "ignored"  # by git's .gitignore
    assert rules.check(repo / "docs" / "private" / "notes.md") == "ignored"  # by .renignore
    assert rules.check(repo / "node_modules" / "left-pad" / "index.js") == "excluded"
    assert rules.check(repo / "package-lock.json") == "excluded"
    assert rules.check(tmp_path / "elsewhere.py") == "outside"


SECRET_NAMES = [".env", ".env.production", ".envrc", "prod.env", "server.key", "tls.pem",
                "id_rsa", "id_ed25519.pub", "credentials", "credentials.json",
                "gcp-credentials.json", "client_secret_123.json", ".npmrc", ".pypirc", ".netrc",
                ".git-credentials", "kubeconfig", "dev.kubeconfig", "secrets.yaml",
                "terraform.tfvars", "token.json", "keystore.jks", "cert.p12"]
ORDINARY_NAMES = ["secrets.py", "token.go", "tokenizer.ts", "keys.rs", "credentials_test.go",
                  "environment.py", "envelope.c", "README.md", "key_value.h", "pemfile.txt"]


@given(folders=st.lists(st.sampled_from(["src", "a", "deploy", "x.y", "node"]), max_size=3),
       name=st.sampled_from(SECRET_NAMES))
def test_a_secret_name_is_secret_in_any_folder(folders: list[str], name: str) -> None:
    assert is_secret_file("/".join([*folders, name]))
    assert is_secret_file(Path("/home/user", *folders, name))


@given(folders=st.lists(st.sampled_from(["src", "a", "lib", "x.y"]), max_size=3),
       name=st.sampled_from(ORDINARY_NAMES))
def test_ordinary_code_is_not_secret(folders: list[str], name: str) -> None:
    assert not is_secret_file("/".join([*folders, name]))


def test_secret_folders() -> None:
    for path in (".ssh/config", "home/.aws/config", ".kube/config", ".docker/config.json",
                 ".gnupg/pubring.kbx"):
        assert is_secret_file(path), path
    assert len(SECRET_FILES) > 40


def test_git_is_optional(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = write_repo(tmp_path / "shop", use_git=True)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    listing = list_files(repo)
    assert not listing.git
    assert "app/billing.py" in listing.files and "debug.log" not in listing.files


# -- the built-in lists' fast matcher is pathspec's decision --------------------------------------

def _pieces(patterns: tuple[str, ...]) -> list[str]:
    """Components near the patterns' own: each pattern's pieces with ``*`` filled in ways that
    match and that almost match."""
    found: set[str] = set()
    for pattern in patterns:
        for piece in pattern.strip("/").split("/"):
            for fill in ("", "x", "a.b", "-", "."):
                found.add(piece.replace("*", fill))
            found.add(piece.replace("*", "") + "x")
            found.add("x" + piece.replace("*", ""))
    return sorted(found - {""})


_COMPONENTS = st.one_of(
    st.sampled_from(_pieces((*files.DEFAULT_EXCLUDES, *files.SECRET_FILES))),
    st.text(alphabet="abe.-_nvkoy/*", min_size=1, max_size=8).filter(lambda t: "/" not in t),
)


@given(parts=st.lists(_COMPONENTS, min_size=1, max_size=4), is_dir=st.booleans())
@settings(max_examples=2000, deadline=None)
def test_the_fast_matcher_decides_as_pathspec_does(parts: list[str], is_dir: bool) -> None:
    rel = "/".join(parts) + ("/" if is_dir else "")
    for built_in in (files.DEFAULT_EXCLUDES, files.SECRET_FILES):
        fast = patterns.matcher(built_in)
        assert fast.__self__.__class__ is patterns.SimplePatterns
        assert fast(rel) == patterns.spec(built_in).match_file(rel), (rel, built_in[0])


def test_every_built_in_pattern_is_a_simple_one_and_anything_else_goes_to_pathspec() -> None:
    assert all(patterns.SimplePatterns.handles(p) for p in (*files.DEFAULT_EXCLUDES,
                                                         *files.SECRET_FILES))
    for pattern in ("!.env", "docs/**/*.md", "/build", "a?.py", "[ab].py", "a/b/c", "src/*.py",
                    "# comment", "\\!x", "", "/"):
        assert not patterns.SimplePatterns.handles(pattern), pattern
    # A user's pattern of another form (a negation lifting a default) still decides.
    assert files.is_secret_file("config/.env")
    assert not files.is_secret_file("config/.env", ["!.env"])
    assert files.is_default_excluded("gen/x.py", ["gen/**"])


def _ignored_by_every_level(tree: files.IgnoreTree, rel: str, is_dir: bool) -> bool:
    """What an ignore tree decides, asked level by level (the plain reading of git's rule)."""
    parts, decision = rel.split("/"), False
    for depth in range(len(parts)):
        spec = tree.spec_for("/".join(parts[:depth]))
        if spec is not None:
            result = spec.check_file("/".join(parts[depth:]) + ("/" if is_dir else ""))
            if result.include is not None:
                decision = bool(result.include)
    return decision


_FOLDERS = ("", "a", "a/b", "a/b/c", "d")
_RULES = ("*.log", "!keep.log", "b/", "/c", "tmp*", "!tmp1", "c/*.txt", "x.py")


@given(ignore_files=st.dictionaries(st.sampled_from(_FOLDERS),
                                    st.lists(st.sampled_from(_RULES), max_size=4), max_size=4),
       rel=st.lists(st.sampled_from(["a", "b", "c", "d", "keep.log", "x.log", "tmp1", "tmp2",
                                     "y.txt", "x.py"]), min_size=1, max_size=5),
       is_dir=st.booleans())
@settings(max_examples=300, deadline=None)
def test_nested_ignore_files_decide_as_git_reads_them_level_by_level(
        tmp_path_factory: pytest.TempPathFactory, ignore_files: dict[str, list[str]],
        rel: list[str], is_dir: bool) -> None:
    root = tmp_path_factory.mktemp("tree")
    for folder, rules in ignore_files.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / ".gitignore").write_text("\n".join(rules) + "\n", encoding="utf-8")
    tree = files.IgnoreTree(root, (".gitignore",))
    path = "/".join(rel)
    assert tree.ignored(path, is_dir=is_dir) == _ignored_by_every_level(tree, path, is_dir)
    folder = next(iter(ignore_files), "")
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / ".gitignore").write_text("*\n", encoding="utf-8")  # changed: read again
    tree.forget(folder)
    assert tree.ignored(path, is_dir=is_dir) == _ignored_by_every_level(tree, path, is_dir)


def test_paths_thousands_of_folders_deep_are_decided_like_any_other(tmp_path: Path) -> None:
    deep = "a/" * 3000
    assert not files.is_secret_file(deep + "x.py") and files.is_secret_file(deep + ".env")
    assert files.is_default_excluded(deep + "node_modules/x.js")
    assert files.is_default_excluded(deep + "x.py") == patterns.spec(
        files.DEFAULT_EXCLUDES).match_file(deep + "x.py")
    (tmp_path / ".gitignore").write_text("*.log\n", encoding="utf-8")
    tree = files.IgnoreTree(tmp_path, (".gitignore",))
    assert tree.ignored(deep + "x.log") and not tree.ignored(deep + "x.py")


def test_a_pattern_with_blanks_is_left_to_pathspec_which_strips_them() -> None:
    for pattern in ("a\t", "\t", "b \r", "c\n"):
        assert not patterns.SimplePatterns.handles(pattern), repr(pattern)
    assert files.is_secret_file("x/a", ["a\t"]) == patterns.spec(
        (*files.SECRET_FILES, "a\t")).match_file("x/a")
