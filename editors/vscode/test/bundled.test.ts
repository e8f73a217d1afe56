import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { bundledWheel, findPython, installedWheel, privateEnv } from "../src/bundled";
import { systemProbe } from "../src/server";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ren-bundled-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("the bundled server", () => {
  it("finds the wheel the .vsix carries, or none in a development build", async () => {
    const ext = tempDir();
    expect(await bundledWheel(ext)).toBeUndefined();
    mkdirSync(path.join(ext, "server"));
    writeFileSync(path.join(ext, "server", "ren_lsp-0.1.0-py3-none-any.whl"), "");
    expect(await bundledWheel(ext)).toBe(path.join(ext, "server", "ren_lsp-0.1.0-py3-none-any.whl"));
  });

  it("counts an environment as installed only once its marker names the wheel", async () => {
    const env = privateEnv(tempDir(), "linux");
    expect(env.executable).toBe(path.join(env.dir, "bin", "ren-lsp"));
    expect(await installedWheel(env)).toBeUndefined();
    mkdirSync(path.dirname(env.executable), { recursive: true });
    writeFileSync(env.executable, "");
    expect(await installedWheel(env)).toBeUndefined(); // pip may have stopped half-way
    writeFileSync(path.join(env.dir, "ren-lsp-wheel.txt"), "ren_lsp-0.1.0-py3-none-any.whl\n");
    expect(await installedWheel(env)).toBe("ren_lsp-0.1.0-py3-none-any.whl");
  });

  it("finds a Python 3.11+ on PATH, and says why a configured one does not do", async () => {
    const found = await findPython(undefined, systemProbe());
    expect("python" in found && found.version).toMatch(/^3\.(1[1-9]|[2-9]\d)$/);
    const missing = await findPython("/nonexistent/python3", systemProbe());
    expect(missing).toEqual({ problem: "the server needs Python 3.11 or newer: /nonexistent/python3 does not run" });
  });
});
