"""The workspace's files: which ones the context engine may read, and which it must never read.

A root inside a git repository is listed by ``git ls-files`` (tracked, and untracked but not
ignored), so every ignore source git knows (nested ``.gitignore``, ``.git/info/exclude``, the
global excludes file) counts. Anywhere else a walk applies the ``.gitignore`` files itself. Then,
in both cases, in this order:

1. ``.renignore`` files (gitignore syntax, at any depth) and the ``ignoreFiles`` setting;
2. the default exclusions (``DEFAULT_EXCLUDES``: vendored and build folders, lock files, minified
   and generated files, binary formats), and files over ``MAX_FILE_BYTES``;
3. secret files (``SECRET_FILES`` plus the ``secretFiles`` setting): never read, whatever any
   ignore file says. A symbolic link counts by its own name and by its target's, and a link whose
   target lies outside the root is not followed at all.

All patterns are gitignore patterns matched against the path relative to its root.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path, PurePath
from stat import S_ISLNK, S_ISREG
from typing import TYPE_CHECKING

import attrs

from ren_lsp.context import patterns

if TYPE_CHECKING:
    import pathspec

#: Files larger than this are not read (generated data, dumps, bundles).
MAX_FILE_BYTES = 1_000_000

#: Never listed: vendored and build folders, caches, lock files, minified and compiled files.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    # version control and editors
    ".git/", ".hg/", ".svn/", ".bzr/", ".idea/", ".vs/",
    # vendored code and dependencies
    "node_modules/", "bower_components/", "jspm_packages/", "vendor/", "_vendor/", "vendored/",
    "third_party/", "site-packages/", ".venv/", "venv/", ".eggs/", "*.egg-info/",
    # build output and caches
    "build/", "dist/", "target/", "out/", "coverage/", "htmlcov/", ".next/", ".nuxt/",
    ".svelte-kit/", ".gradle/", ".terraform/", ".cache/", ".parcel-cache/", ".turbo/",
    "__pycache__/", ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".tox/", ".nox/",
    ".hypothesis/",
    # lock files
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock", "composer.lock",
    "go.sum", "flake.lock", "mix.lock", "packages.lock.json",
    # minified, generated and compiled
    "*.min.js", "*.min.mjs", "*.min.css", "*.map", "*.pyc", "*.pyo", "*.class", "*.o", "*.obj",
    "*.a", "*.lib", "*.so", "*.so.*", "*.dylib", "*.dll", "*.exe", "*.jar", "*.war", "*.whl",
    # binary formats (content is also sniffed when read: a NUL byte means binary)
    "*.png", "*.jpg", "*.jpeg", "*.gif", "*.bmp", "*.ico", "*.icns", "*.webp", "*.tif", "*.tiff",
    "*.psd", "*.svg", "*.mp3", "*.mp4", "*.wav", "*.ogg", "*.flac", "*.mov", "*.avi", "*.mkv",
    "*.webm", "*.pdf", "*.doc", "*.docx", "*.xls", "*.xlsx", "*.ppt", "*.pptx", "*.odt",
    "*.zip", "*.tar", "*.gz", "*.tgz", "*.bz2", "*.xz", "*.zst", "*.7z", "*.rar", "*.woff",
    "*.woff2", "*.ttf", "*.otf", "*.eot", "*.db", "*.sqlite", "*.sqlite3", "*.bin", "*.pkl",
    "*.pickle", "*.npy", "*.npz", "*.parquet", "*.h5", "*.onnx", "*.pt", "*.ckpt",
    "*.safetensors", "*.wasm", "*.iso", "*.dmg", ".DS_Store",
)

#: Files that look like secrets: never read into context, whatever the ignore files say.
SECRET_FILES: tuple[str, ...] = (
    # environment files (direnv's .envrc too)
    ".env", ".env.*", ".envrc", "*.env",
    # private keys, certificates, key stores
    "*.pem", "*.key", "*.p8", "*.p12", "*.pfx", "*.crt", "*.cer", "*.der", "*.jks", "*.keystore",
    "*.ppk", "*.gpg", "*.pgp", "*.asc", "*.kdbx", "*.keytab",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    # credential and token files
    "credentials", "credentials.*", "*-credentials.*", "*_credentials.*", "client_secret*.json",
    "service-account*.json", "*serviceaccount*.json", "secrets.json", "secrets.yaml",
    "secrets.yml", "secrets.toml", "secrets.ini", "secrets.env", "*.secret", "*.secrets",
    "token", "token.json", "tokens.json", "*.token", ".token",
    # tools' credential files
    ".npmrc", ".yarnrc.yml", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".htpasswd",
    ".pgpass", ".my.cnf", ".boto", ".s3cfg", ".dockercfg", ".docker/config.json",
    # cloud and cluster configuration
    "kubeconfig", "*.kubeconfig", ".kube/", ".aws/", ".ssh/", ".gnupg/", ".azure/",
    "*.tfvars", "*.tfstate", "*.tfstate.*",
)

IGNORE_FILE_NAMES = (".gitignore", ".renignore")


def is_secret_file(path: str | PurePath, extra: Sequence[str] = ()) -> bool:
    """Whether ``path`` (relative or absolute) looks like a file of secrets, by its name."""
    return _is_secret_posix(PurePath(path).as_posix().lstrip("/"), tuple(extra))


def _is_secret_posix(text: str, extra: tuple[str, ...]) -> bool:
    """``is_secret_file`` of a normalized relative posix path (a listing's); ``extra`` after
    the defaults (``!pattern`` lifts a default)."""
    return bool(text) and _secrets(extra)(text)


def is_default_excluded(rel: str, extra: Sequence[str] = ()) -> bool:
    """Whether the default exclusions or the ``ignoreFiles`` patterns ``extra`` drop ``rel``."""
    return _excludes(tuple(extra))(rel)


@lru_cache(maxsize=32)
def _secrets(extra: tuple[str, ...]) -> Callable[[str], bool]:
    return patterns.matcher((*SECRET_FILES, *extra))


@lru_cache(maxsize=32)
def _excludes(extra: tuple[str, ...]) -> Callable[[str], bool]:
    return patterns.matcher((*DEFAULT_EXCLUDES, *extra))


# -- per-directory ignore files -----------------------------------------------------------------


class IgnoreTree:
    """Gitignore-style files found in a root's directories, read once each, applied like git.

    ``names`` are the ignore files to honour (``.renignore`` only, in a git repository, where git
    has applied the ``.gitignore`` files already). A deeper file's decision overrides a higher
    one's, and a negation (``!pattern``) re-includes.
    """

    def __init__(self, root: Path, names: Sequence[str]) -> None:
        self.root = root
        self.names = tuple(names)
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._chains: dict[str, tuple[tuple[int, pathspec.GitIgnoreSpec], ...]] = {}

    def spec_for(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._specs:
            lines: list[str] = []
            for name in self.names:
                try:
                    text = (self.root / directory / name).read_text(
                        encoding="utf-8", errors="replace")
                except OSError:
                    continue
                lines.extend(text.splitlines())
            self._specs[directory] = patterns.spec(tuple(lines)) if lines else None
        return self._specs[directory]

    def forget(self, directory: str) -> None:
        """Read that directory's ignore files again on next use (one of them changed)."""
        self._specs.pop(directory, None)
        self._chains.clear()

    def _chain(self, directory: str) -> tuple[tuple[int, pathspec.GitIgnoreSpec], ...]:
        """The ignore files that apply in ``directory`` (its own and its parents'), outermost
        first, each with where the paths it matches start: most folders have none."""
        chains = self._chains
        found = chains.get(directory)
        if found is not None:
            return found
        unknown = [directory]  # up to the nearest folder known (a loop: paths may be deep)
        while unknown[-1] and unknown[-1].rpartition("/")[0] not in chains:
            unknown.append(unknown[-1].rpartition("/")[0])
        last = unknown[-1]
        found = chains.get(last.rpartition("/")[0], ()) if last else ()
        for folder in reversed(unknown):
            spec = self.spec_for(folder)
            if spec is not None:
                found = (*found, (len(folder) + 1 if folder else 0, spec))
            chains[folder] = found
        return found

    def ignored(self, rel: str, *, is_dir: bool = False) -> bool:
        decision = False
        for start, spec in self._chain(rel.rpartition("/")[0]):
            result = spec.check_file(rel[start:] + ("/" if is_dir else ""))
            if result.include is not None:
                decision = bool(result.include)
        return decision


# -- the rules of one root ----------------------------------------------------------------------


@attrs.define
class RootRules:
    """Everything that decides whether one file of one root may be read."""

    root: Path
    git: bool
    extra_ignores: tuple[str, ...] = ()
    extra_secrets: tuple[str, ...] = ()
    tree: IgnoreTree = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.tree = IgnoreTree(self.root, (".renignore",) if self.git else IGNORE_FILE_NAMES)

    def rejects(self, rel: str) -> str | None:
        """Why ``rel`` may not be read ("secret", "ignored", "excluded", …), or None.

        Does not ask git: ``git ls-files`` has filtered the listing, and ``check`` asks it for a
        single file.
        """
        if _is_secret_posix(rel, self.extra_secrets):  # a listing's paths are normalized
            return "secret"
        if is_default_excluded(rel, self.extra_ignores):
            return "excluded"
        if self.tree.ignored(rel):
            return "ignored"
        return None

    def check(self, path: Path) -> str | None:
        """Why the file at ``path`` (under the root) may not be read, or None: the full check.

        Used for a single file (a document the editor opened, a watched-file event).
        """
        rel = relative_posix(path, self.root)
        if rel is None:
            return "outside"
        reason = self.rejects(rel) or _link_reason(path, self.root, self.extra_secrets)
        if reason:
            return reason
        if self.git and _git_ignores(self.root, rel):
            return "ignored"
        return None

    def forget(self, rel: str) -> None:
        """The ignore file ``rel`` changed: read its directory's ignore files again."""
        self.tree.forget(rel.rpartition("/")[0])

    def listing(self) -> Listing:
        """The files of the root the context engine may read (see the module's docstring)."""
        listed = _git_listing(self.root) if self.git else None
        if self.git and listed is None:  # git vanished, or the repository is broken: walk
            self.git = False
            self.tree = IgnoreTree(self.root, IGNORE_FILE_NAMES)
        candidates: Iterable[str] = listed if listed is not None else _walk(self.root, self)
        files: list[str] = []
        stats: dict[str, tuple[int, int]] = {}
        skipped: dict[str, int] = {}
        base = self.root.as_posix()
        for rel in candidates:
            reason = self.rejects(rel)
            if not reason:
                reason, stat = _stat_reason(f"{base}/{rel}", self.root, self)
                if stat is not None:
                    stats[rel] = (stat.st_size, stat.st_mtime_ns)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            else:
                files.append(rel)
        files.sort()
        return Listing(self.root, self.git, files, skipped, stats)


def relative_posix(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` as a posix string, or None when it lies outside."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    text = rel.as_posix()
    return None if text in ("", ".") else text


def _link_reason(path: Path, root: Path, extra_secrets: Sequence[str]) -> str | None:
    """A symbolic link may point at a secret under an innocent name, or out of the workspace."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "broken link"
    if is_secret_file(target, extra_secrets):
        return "secret"
    if relative_posix(target, root.resolve()) is None:
        return "outside"
    return None


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], stdin=subprocess.DEVNULL, capture_output=True,
            timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def is_git_root(root: Path) -> bool:
    """Whether ``root`` lies inside a git work tree that does not ignore it (and git runs).

    A folder the enclosing repository ignores (a virtual environment, a build tree opened on
    its own) is walked instead: git would list nothing in it.
    """
    done = _git(root, "rev-parse", "--is-inside-work-tree")
    if done is None or done.returncode != 0 or done.stdout.strip() != b"true":
        return False
    return not _git_ignores(root, ".")


def _git_ignores(root: Path, rel: str) -> bool:
    done = _git(root, "check-ignore", "-q", "--", rel)
    return done is not None and done.returncode == 0


def _git_listing(root: Path) -> list[str] | None:
    done = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if done is None or done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", errors="surrogateescape").split("\0")
    return sorted({name for name in names if name})


def _walk(root: Path, rules: RootRules) -> Iterator[str]:
    """Every file under ``root`` the ignore files and default exclusions let through."""
    stack = [""]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(root / directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            rel = f"{directory}/{entry.name}" if directory else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                dir_rel = rel + "/"
                if is_default_excluded(dir_rel, rules.extra_ignores) or is_secret_file(
                        dir_rel, rules.extra_secrets) or rules.tree.ignored(rel, is_dir=True):
                    continue
                stack.append(rel)
            else:
                yield rel


@attrs.frozen
class Listing:
    """The readable files of one root, and why others were left out."""

    root: Path
    git: bool
    #: posix paths relative to the root, sorted
    files: list[str]
    #: reason ("secret", "ignored", "excluded", "too large", …) -> how many files
    skipped: dict[str, int]
    #: a listed file's (size, mtime_ns) when it was listed (a link's: its target's)
    stats: dict[str, tuple[int, int]] = attrs.Factory(dict)


def list_files(root: Path, *, extra_ignores: Sequence[str] = (),
               extra_secrets: Sequence[str] = (), git: bool | None = None) -> Listing:
    """The files of ``root`` the context engine may read (see the module's docstring)."""
    return rules_for(root, extra_ignores=extra_ignores, extra_secrets=extra_secrets,
                     git=git).listing()


def _stat_reason(name: str, root: Path,
                 rules: RootRules) -> tuple[str | None, os.stat_result | None]:
    """Why the file ``name`` (a path under ``root``) may not be read, or None; and its stat."""
    try:
        stat = os.lstat(name)  # one call: what a link is not, its own stat says
    except OSError:
        return "unreadable", None  # deleted but still tracked, or a dangling entry
    if S_ISLNK(stat.st_mode):
        reason = _link_reason(Path(name), root, rules.extra_secrets)
        if reason:
            return reason, None
        try:
            stat = os.stat(name)
        except OSError:
            return "unreadable", None
    if not S_ISREG(stat.st_mode):
        return "not a file", None  # a submodule or a nested repository
    if stat.st_size > MAX_FILE_BYTES:
        return "too large", None
    return None, stat


def rules_for(root: Path, *, extra_ignores: Sequence[str] = (),
              extra_secrets: Sequence[str] = (), git: bool | None = None) -> RootRules:
    """The rules of one root, for checking single files after the listing."""
    root = root.resolve()
    use_git = is_git_root(root) if git is None else git
    return RootRules(root, use_git, tuple(extra_ignores), tuple(extra_secrets))
