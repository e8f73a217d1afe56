#!/usr/bin/env node
// Builds the ren-lsp wheel from this checkout into server/, so the .vsix carries its own server
// (the extension installs it into a private virtual environment when none is found). Runs before
// `vsce package`. The Python: REN_LSP_PYTHON, else the repository's .venv, else python3; it
// needs only pip (`pip wheel` fetches the build backend, hatchling, like any build).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as path from "node:path";

const extension = fileURLToPath(new URL("..", import.meta.url));
const repository = path.resolve(extension, "..", "..");
const out = path.join(extension, "server");
const venvPython = path.join(repository, ".venv", process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
const python = process.env.REN_LSP_PYTHON || (existsSync(venvPython) ? venvPython : "python3");

if (!existsSync(path.join(repository, "pyproject.toml"))) {
  console.error(`bundle-server: no pyproject.toml in ${repository}; run this from a ren-lsp checkout.`);
  process.exit(1);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
try {
  execFileSync(python, ["-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, repository], {
    stdio: ["ignore", "inherit", "inherit"],
  });
} catch (error) {
  console.error(`bundle-server: building the wheel with ${python} failed: ${error.message}`);
  process.exit(1);
}
const wheels = readdirSync(out).filter((name) => /^ren_lsp-.+\.whl$/.test(name));
if (wheels.length !== 1) {
  console.error(`bundle-server: expected one ren_lsp wheel in ${out}, found ${JSON.stringify(wheels)}`);
  process.exit(1);
}
console.log(`server/${wheels[0]} built.`);
