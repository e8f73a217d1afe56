/**
 * Finding the ren-lsp server: `ren.server.path` (the executable), else `ren.server.python`
 * (`<python> -m ren_lsp`), else `ren-lsp` on PATH, else the extension's private environment
 * (bundled.ts installs the wheel the .vsix carries there). When none works, a problem the user
 * can act on, with a command that installs the server from that wheel.
 *
 * No `vscode` import: the caller passes the settings and a probe of the file system, so the
 * resolution is unit-tested without VS Code.
 */
import { execFile } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const EXECUTABLE = "ren-lsp";
export const MODULE = "ren_lsp";
/** Said when the .vsix carries no wheel (a development build): install from a checkout. */
export const INSTALL_FROM_CHECKOUT = "pipx install <your ren-lsp checkout>";

/** The command that installs the server for the user: pipx, from the bundled wheel. */
export function installCommand(wheel: string | undefined, platform: NodeJS.Platform): string {
  return wheel ? `pipx install ${quoteArg(wheel, platform)}` : INSTALL_FROM_CHECKOUT;
}

export interface ServerSettings {
  /** `ren.server.path`: the ren-lsp executable */
  path?: string;
  /** `ren.server.python`: an interpreter that has the ren_lsp package */
  python?: string;
  /** the wheel the .vsix carries, for the install commands */
  wheel?: string;
  /** the private environment's ren-lsp, when it is installed and current */
  privateServer?: string;
}

export const PRIVATE_SOURCE = "the extension's private environment";

export interface ServerCommand {
  command: string;
  args: string[];
  /** how it was found, for the log */
  source: string;
}

export interface MissingServer {
  /** what is wrong, as a sentence without a final period */
  problem: string;
  /** the command that installs the server */
  install: string;
}

export type Resolution = { ok: true; server: ServerCommand } | ({ ok: false } & MissingServer);

/** What resolution needs to know about the machine (real in VS Code, fake in tests). */
export interface Probe {
  env: Record<string, string | undefined>;
  platform: NodeJS.Platform;
  home: string;
  /** whether the path is a file this process may execute */
  isExecutable(file: string): Promise<boolean>;
  /** "yes" / "no": the interpreter has the module; "not-run": it could not be run at all */
  hasModule(python: string, module: string): Promise<"yes" | "no" | "not-run">;
}

export async function resolveServer(settings: ServerSettings, probe: Probe): Promise<Resolution> {
  const install = installCommand(settings.wheel, probe.platform);
  const fallback: Resolution | undefined = settings.privateServer
    ? { ok: true, server: { command: settings.privateServer, args: [], source: PRIVATE_SOURCE } }
    : undefined;
  const serverPath = settings.path?.trim();
  if (serverPath) {
    const found = await locate(serverPath, probe);
    if (found === undefined) {
      return {
        ok: false,
        problem: `ren.server.path is "${serverPath}", which is not an executable file`,
        install,
      };
    }
    return { ok: true, server: { command: found, args: [], source: "ren.server.path" } };
  }
  const python = settings.python?.trim();
  if (python) {
    const found = await locate(python, probe);
    if (found === undefined) {
      return {
        ok: false,
        problem: `ren.server.python is "${python}", which is not an executable file`,
        install,
      };
    }
    const pipInstall = settings.wheel
      ? `${quoteArg(found, probe.platform)} -m pip install ${quoteArg(settings.wheel, probe.platform)}`
      : install;
    switch (await probe.hasModule(found, MODULE)) {
      case "yes":
        return { ok: true, server: { command: found, args: ["-m", MODULE], source: "ren.server.python" } };
      case "no":
        // The private environment is made with ren.server.python when it is set.
        return (
          fallback ?? {
            ok: false,
            problem: `the Python at ${found} (ren.server.python) has no ren_lsp package`,
            install: pipInstall,
          }
        );
      case "not-run":
        return { ok: false, problem: `the Python at ${found} (ren.server.python) could not be run`, install: pipInstall };
    }
  }
  const onPath = await findOnPath(EXECUTABLE, probe);
  if (onPath !== undefined) {
    return { ok: true, server: { command: onPath, args: [], source: "PATH" } };
  }
  if (fallback !== undefined) {
    return fallback;
  }
  return {
    ok: false,
    problem: "the ren-lsp server was not found on PATH",
    install,
  };
}

/** A setting's value as a file: `~` expanded; a bare name (no separator) looked up on PATH. */
async function locate(value: string, probe: Probe): Promise<string | undefined> {
  let file = value;
  if (file === "~" || file.startsWith("~/") || file.startsWith("~\\")) {
    file = path.join(probe.home, file.slice(1));
  }
  if (!file.includes("/") && !file.includes("\\")) {
    return findOnPath(file, probe);
  }
  return (await probe.isExecutable(file)) ? file : undefined;
}

/** The first executable called `name` in PATH (with PATHEXT's extensions on Windows). */
export async function findOnPath(name: string, probe: Probe): Promise<string | undefined> {
  const windows = probe.platform === "win32";
  const pathVar = windows ? (probe.env.Path ?? probe.env.PATH) : probe.env.PATH;
  const separator = windows ? ";" : ":";
  // Windows runs only files with an executable extension (ren-lsp.exe, from pip).
  const extensions =
    windows && !path.win32.extname(name)
      ? (probe.env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)
      : [""];
  const join = (dir: string, file: string): string => (windows ? path.win32.join(dir, file) : path.posix.join(dir, file));
  for (const dir of (pathVar ?? "").split(separator)) {
    if (!dir) {
      continue; // an empty entry means ".": never run what the current directory holds
    }
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      if (await probe.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

export function quoteArg(value: string, platform: NodeJS.Platform): string {
  if (!/[\s"'$`\\]/.test(value) || (platform === "win32" && !/[\s"]/.test(value))) {
    return value;
  }
  return platform === "win32" ? `"${value}"` : `'${value.replace(/'/g, "'\\''")}'`;
}

/** The probe of this machine. */
export function systemProbe(): Probe {
  return {
    env: process.env,
    platform: process.platform,
    home: os.homedir(),
    async isExecutable(file) {
      try {
        const stat = await fs.stat(file);
        if (!stat.isFile()) {
          return false;
        }
        if (process.platform !== "win32") {
          await fs.access(file, constants.X_OK);
        }
        return true;
      } catch {
        return false;
      }
    },
    hasModule(python, module) {
      // find_spec, not import: quick, and nothing of the package runs.
      const script = `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(${JSON.stringify(module)}) else 3)`;
      return new Promise((resolve) => {
        execFile(python, ["-c", script], { timeout: 20_000, windowsHide: true }, (error) => {
          if (error === null) {
            resolve("yes");
          } else {
            resolve(error.code === 3 ? "no" : "not-run");
          }
        });
      });
    },
  };
}
