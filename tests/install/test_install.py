"""The install a new user does: the README's install line, run as written, and the built
distributions (`python -m build`) carrying what the server needs at run time.

Both are slow (they build, and pip fetches the dependencies from the package index), and both
are what a user meets first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(900)


def readme_block(marker: str) -> list[str]:
    """The command lines of the code block after `<!-- marker -->` in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```sh\n(.*?)```", readme, re.S)
    assert found, f"README.md has no code block marked <!-- {marker} -->"
    return [line for line in found.group(1).splitlines() if line.strip()
            and not line.lstrip().startswith("#")]


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False,
                            **kw)  # type: ignore[call-overload]
    assert result.returncode == 0, (
        f"{argv} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def user_env(tmp_path: Path, bin_dirs: list[Path]) -> dict[str, str]:
    """A user with a home of their own, pipx's folders in it, and no REN_* setting."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("REN_", "PIPX_", "VIRTUAL_ENV")) and "PROXY" not in k.upper()}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local/state"), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_DATA_HOME=str(home / ".local/share"),
               PIPX_HOME=str(home / ".local/share/pipx"), PIPX_BIN_DIR=str(home / ".local/bin"),
               PIPX_MAN_DIR=str(home / ".local/share/man"))
    env["PATH"] = os.pathsep.join([*map(str, bin_dirs), str(home / ".local/bin"),
                                   "/usr/local/bin", "/usr/bin", "/bin"])
    return env


async def answers_initialize(executable: Path, env: dict[str, str], root: Path) -> str:
    """Starts the server over stdio, sends `initialize`; returns the server's name and version."""
    client = LanguageClient("install-test", "1")
    await client.start_io(str(executable), env=env, cwd=str(root))
    try:
        result = await client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
            process_id=os.getpid()))
        assert result.capabilities.execute_command_provider is not None
        commands = result.capabilities.execute_command_provider.commands
        assert "ren.explain" in commands, commands
        assert result.server_info is not None
        await client.shutdown_async(None)
        client.exit(None)
        return f"{result.server_info.name} {result.server_info.version}"
    finally:
        await client.stop()


async def test_the_readme_install_line_gives_a_working_server(tmp_path: Path) -> None:
    lines = readme_block("install: user")
    assert any(line.startswith(("pipx install", "uv tool install")) for line in lines), lines
    # The user has pipx (as `apt install pipx` or `pip install --user pipx` gives it).
    tools = tmp_path / "tools"
    run([sys.executable, "-m", "venv", str(tools)])
    run([str(tools / "bin" / "pip"), "install", "--quiet", "pipx>=1.4"])
    env = user_env(tmp_path, [tools / "bin"])
    for line in lines:
        # Literally as written, by a shell, in the checkout (where the README says to run it).
        run(["sh", "-c", line], cwd=ROOT, env=env)
    installed = Path(env["PIPX_BIN_DIR"]) / "ren-lsp"
    assert installed.exists(), f"{lines} did not put ren-lsp in {installed.parent}"
    version = run([str(installed), "--version"], env=env).stdout
    assert re.search(r"\d+\.\d+", version), version
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    name = await answers_initialize(installed, env, workspace)
    assert name.startswith("ren-lsp"), name


def test_build_makes_a_wheel_and_sdist_with_the_schemas_and_the_emulator(tmp_path: Path) -> None:
    pytest.importorskip("build", reason="`python -m build` needs the release extra "
                                         "(pip install -e '.[release]')")
    run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)])
    wheels = list(tmp_path.glob("ren_lsp-*.whl"))
    sdists = list(tmp_path.glob("ren_lsp-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, list(tmp_path.iterdir())
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "ren-lsp = ren_lsp.cli:main" in wheel.read(entry_points).decode()
    schemas = sorted(p.name for p in (ROOT / "schemas").glob("*.json"))
    assert schemas, "no schemas in the checkout"
    for schema in schemas:
        assert f"ren_lsp/schemas/{schema}" in names, f"the wheel lacks schemas/{schema}"
    for module in ("__init__.py", "server.py", "app.py", "replies.py", "faults.py"):
        assert f"ren_lsp/emulator/{module}" in names, f"the wheel lacks the emulator's {module}"
    assert "ren_lsp/py.typed" in names
    with tarfile.open(sdists[0]) as archive:
        sdist = archive.getnames()
    top = sdist[0].split("/")[0]
    for needed in ("pyproject.toml", "README.md", "LICENSE", "ren_lsp/emulator/server.py",
                   *(f"schemas/{schema}" for schema in schemas)):
        assert f"{top}/{needed}" in sdist, f"the sdist lacks {needed}"
    built = [n for n in sdist if n.endswith((".whl", ".vsix")) or "/node_modules/" in n]
    assert not built, f"the sdist carries build output: {built[:5]}"
    # The wheel installs and its emulator runs from it (no checkout on sys.path).
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheels[0])])
    probe = ("import ren_lsp.emulator as e, ren_lsp.jsonschemas as j; "
             "j.validator('settings.schema.json'); print(e.__file__); print(j.schema_dir())")
    where = run([str(venv / "bin" / "python"), "-I", "-c", probe], cwd=tmp_path).stdout.split()
    assert len(where) == 2 and all(w.startswith(str(venv)) for w in where), where
