import { describe, expect, it } from "vitest";
import { findOnPath, INSTALL_FROM_CHECKOUT, installCommand, PRIVATE_SOURCE, resolveServer, type Probe } from "../src/server";

const WHEEL = "/ext/server/ren_lsp-0.1.0-py3-none-any.whl";

function probe(files: string[], options: Partial<Probe> & { modules?: Record<string, "yes" | "no" | "not-run"> } = {}): Probe {
  return {
    env: { PATH: "/usr/local/bin:/usr/bin" },
    platform: "linux",
    home: "/home/me",
    isExecutable: (file) => Promise.resolve(files.includes(file)),
    hasModule: (python) => Promise.resolve(options.modules?.[python] ?? "no"),
    ...options,
  };
}

describe("resolveServer", () => {
  it("runs ren.server.path as is", async () => {
    const found = await resolveServer({ path: "/opt/ren/bin/ren-lsp", python: "/usr/bin/python3" }, probe(["/opt/ren/bin/ren-lsp"]));
    expect(found).toEqual({ ok: true, server: { command: "/opt/ren/bin/ren-lsp", args: [], source: "ren.server.path" } });
  });

  it("expands ~ and looks a bare name up on PATH", async () => {
    const home = await resolveServer({ path: "~/.local/bin/ren-lsp" }, probe(["/home/me/.local/bin/ren-lsp"]));
    expect(home.ok && home.server.command).toBe("/home/me/.local/bin/ren-lsp");
    const bare = await resolveServer({ path: "ren-lsp" }, probe(["/usr/bin/ren-lsp"]));
    expect(bare.ok && bare.server.command).toBe("/usr/bin/ren-lsp");
  });

  it("says so when ren.server.path is not an executable, with the install command", async () => {
    const found = await resolveServer({ path: "/nope/ren-lsp", wheel: WHEEL }, probe(["/usr/bin/ren-lsp"]));
    expect(found).toEqual({
      ok: false,
      problem: 'ren.server.path is "/nope/ren-lsp", which is not an executable file',
      install: `pipx install ${WHEEL}`,
    });
  });

  it("installs from the bundled wheel, quoted for the shell, or from a checkout without one", () => {
    expect(installCommand("/my ext/server/ren_lsp-0.1.0-py3-none-any.whl", "linux")).toBe(
      "pipx install '/my ext/server/ren_lsp-0.1.0-py3-none-any.whl'",
    );
    expect(installCommand(undefined, "linux")).toBe(INSTALL_FROM_CHECKOUT);
  });

  it("runs `python -m ren_lsp` with ren.server.python when the package is there", async () => {
    const venv = "/home/me/venv/bin/python";
    const found = await resolveServer({ path: "  ", python: venv }, probe([venv], { modules: { [venv]: "yes" } }));
    expect(found).toEqual({ ok: true, server: { command: venv, args: ["-m", "ren_lsp"], source: "ren.server.python" } });
  });

  it("tells how to install into that Python when the package is missing", async () => {
    const venv = "/home/me/my venv/bin/python";
    const found = await resolveServer({ python: venv, wheel: WHEEL }, probe([venv], { modules: { [venv]: "no" } }));
    expect(found).toEqual({
      ok: false,
      problem: `the Python at ${venv} (ren.server.python) has no ren_lsp package`,
      install: `'${venv}' -m pip install ${WHEEL}`,
    });
  });

  it("uses the private environment when nothing else has the server", async () => {
    const mine = "/storage/server-venv/bin/ren-lsp";
    const none = await resolveServer({ privateServer: mine }, probe([]));
    expect(none).toEqual({ ok: true, server: { command: mine, args: [], source: PRIVATE_SOURCE } });
    const venv = "/home/me/venv/bin/python";
    const noModule = await resolveServer({ python: venv, privateServer: mine }, probe([venv], { modules: { [venv]: "no" } }));
    expect(noModule.ok && noModule.server.command).toBe(mine);
    const onPath = await resolveServer({ privateServer: mine }, probe(["/usr/bin/ren-lsp"]));
    expect(onPath.ok && onPath.server.source).toBe("PATH");
  });

  it("reports a Python that cannot run", async () => {
    const found = await resolveServer({ python: "python3" }, probe(["/usr/bin/python3"], { modules: { "/usr/bin/python3": "not-run" } }));
    expect(found.ok).toBe(false);
    expect(!found.ok && found.problem).toContain("could not be run");
  });

  it("falls back to ren-lsp on PATH, in PATH order", async () => {
    const found = await resolveServer({}, probe(["/usr/bin/ren-lsp", "/usr/local/bin/ren-lsp"]));
    expect(found).toEqual({ ok: true, server: { command: "/usr/local/bin/ren-lsp", args: [], source: "PATH" } });
  });

  it("says how to install the server when there is none", async () => {
    const found = await resolveServer({ wheel: WHEEL }, probe([]));
    expect(found.ok).toBe(false);
    expect(!found.ok && found.install).toBe(`pipx install ${WHEEL}`);
    expect(!found.ok && found.problem).toContain("not found on PATH");
  });
});

describe("findOnPath", () => {
  it("skips empty PATH entries (never the current directory)", async () => {
    const found = await findOnPath("ren-lsp", probe(["ren-lsp"], { env: { PATH: ":/usr/bin" } }));
    expect(found).toBeUndefined();
  });

  it("uses Path and PATHEXT on Windows", async () => {
    const exe = "C:\\Users\\me\\venv\\Scripts\\ren-lsp.EXE";
    const windows = probe([exe], {
      platform: "win32",
      env: { Path: "C:\\Windows;C:\\Users\\me\\venv\\Scripts", PATHEXT: ".COM;.EXE" },
    });
    expect(await findOnPath("ren-lsp", windows)).toBe(exe);
  });
});
