/**
 * The server the extension brings: the .vsix carries the project's wheel (server/*.whl), and
 * when no ren-lsp is found the extension offers to install it into a private virtual
 * environment under its global storage, with a Python it finds (`ren.server.python` first,
 * then `python3` / `python` on PATH, 3.11 or newer), and uses that environment from then on.
 *
 * No `vscode` import: the caller shows the offer and the progress.
 */
import { execFile, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { findOnPath, type Probe } from "./server";

export const MIN_PYTHON: readonly [number, number] = [3, 11];
/** Written last, naming the wheel installed: an environment without it is unfinished. */
const MARKER = "ren-lsp-wheel.txt";

/** The wheel inside the extension (server/ren_lsp-*.whl), or undefined in a development build. */
export async function bundledWheel(extensionPath: string): Promise<string | undefined> {
  const folder = path.join(extensionPath, "server");
  try {
    const wheel = (await fs.readdir(folder)).filter((name) => /^ren_lsp-.+\.whl$/.test(name)).sort().pop();
    return wheel === undefined ? undefined : path.join(folder, wheel);
  } catch {
    return undefined;
  }
}

export interface PrivateEnv {
  dir: string;
  python: string;
  executable: string;
}

export function privateEnv(storage: string, platform: NodeJS.Platform): PrivateEnv {
  const dir = path.join(storage, "server-venv");
  const bin = platform === "win32" ? path.join(dir, "Scripts") : path.join(dir, "bin");
  const exe = platform === "win32" ? ".exe" : "";
  return { dir, python: path.join(bin, `python${exe}`), executable: path.join(bin, `ren-lsp${exe}`) };
}

/** The wheel (file name) installed in the environment, or undefined when it is not installed. */
export async function installedWheel(env: PrivateEnv): Promise<string | undefined> {
  try {
    const name = (await fs.readFile(path.join(env.dir, MARKER), "utf8")).trim();
    await fs.access(env.executable);
    return name || undefined;
  } catch {
    return undefined;
  }
}

export interface FoundPython {
  python: string;
  version: string;
}

/** The Python to make the environment with, or why there is none. */
export async function findPython(setting: string | undefined, probe: Probe): Promise<FoundPython | { problem: string }> {
  const candidates: string[] = [];
  const configured = setting?.trim();
  if (configured) {
    candidates.push(configured.startsWith("~") ? path.join(probe.home, configured.slice(1)) : configured);
  } else {
    for (const name of probe.platform === "win32" ? ["python", "py"] : ["python3", "python"]) {
      const found = await findOnPath(name, probe);
      if (found !== undefined) {
        candidates.push(found);
      }
    }
  }
  const seen: string[] = [];
  for (const python of candidates) {
    const version = await pythonVersion(python);
    if (version === undefined) {
      seen.push(`${python} does not run`);
    } else if (!atLeast(version, MIN_PYTHON)) {
      seen.push(`${python} is Python ${version.join(".")}`);
    } else {
      return { python, version: version.join(".") };
    }
  }
  const need = `Python ${MIN_PYTHON.join(".")} or newer`;
  if (seen.length === 0) {
    return { problem: `no Python was found on PATH to install the server with (it needs ${need})` };
  }
  return { problem: `the server needs ${need}: ${seen.join("; ")}` };
}

function atLeast(version: readonly number[], minimum: readonly number[]): boolean {
  const [major = 0, minor = 0] = version;
  return major > (minimum[0] ?? 0) || (major === minimum[0] && minor >= (minimum[1] ?? 0));
}

function pythonVersion(python: string): Promise<number[] | undefined> {
  return new Promise((resolve) => {
    execFile(python, ["-c", "import sys; print(*sys.version_info[:2])"], { timeout: 20_000, windowsHide: true }, (error, stdout) => {
      const parts = stdout.trim().split(" ").map(Number);
      resolve(error === null && parts.length === 2 && parts.every(Number.isInteger) ? parts : undefined);
    });
  });
}

export interface InstallDeps {
  /** a line of what is going on, for the progress notification */
  report(message: string): void;
  /** every line the tools print, for the log */
  log(line: string): void;
}

/**
 * Makes the environment afresh with `python` and installs the wheel (its dependencies from the
 * user's package index, as pip is configured). Throws an Error saying which step failed, with
 * the end of its output.
 */
export async function installPrivate(env: PrivateEnv, python: FoundPython, wheel: string, deps: InstallDeps): Promise<void> {
  await fs.rm(env.dir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(env.dir), { recursive: true });
  deps.report(`creating a virtual environment with Python ${python.version}…`);
  await run(python.python, ["-m", "venv", env.dir], "creating the virtual environment", deps);
  deps.report(`installing ${path.basename(wheel)} and its dependencies…`);
  await run(
    env.python,
    ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off", wheel],
    "installing the server with pip",
    deps,
    (line) => {
      // "Collecting pygls>=2.1" / "Installing collected packages: …": enough to see it moves.
      const step = /^(Collecting|Downloading|Installing|Building|Successfully)\b.*/.exec(line.trim());
      if (step) {
        deps.report(step[0].slice(0, 80));
      }
    },
  );
  await fs.access(env.executable).catch(() => {
    throw new Error(`pip finished but ${env.executable} is missing`);
  });
  await fs.writeFile(path.join(env.dir, MARKER), `${path.basename(wheel)}\n`, "utf8");
}

function run(command: string, args: string[], what: string, deps: InstallDeps, onLine?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const child = spawn(command, args, { windowsHide: true, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    const take = (chunk: Buffer): void => {
      pending += chunk.toString("utf8");
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? "";
      for (const line of lines) {
        deps.log(line);
        onLine?.(line);
        tail.push(line);
        if (tail.length > 12) {
          tail.shift();
        }
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (error) => reject(new Error(`${what} failed: ${error.message}`)));
    child.on("close", (code) => {
      if (code === 0) {
        resolve();
      } else {
        const last = tail.filter((line) => line.trim()).slice(-3).join(" ").trim();
        reject(new Error(`${what} failed (exit ${code})${last ? `: ${last}` : ""}`));
      }
    });
  });
}
