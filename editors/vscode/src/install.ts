/**
 * Installing the server the .vsix carries into the private environment (bundled.ts does the
 * work), with a progress notification, and saying what failed when it does.
 */
import * as vscode from "vscode";
import { findPython, installPrivate, MIN_PYTHON, privateEnv } from "./bundled";
import { describe } from "./logging";
import type { Probe } from "./server";
import type { StatusBar } from "./status";

export interface InstallDeps {
  log: vscode.LogOutputChannel;
  status: StatusBar;
  probe: Probe;
  /** the extension's global storage folder */
  storage: string;
}

/** The bundled wheel into the private environment, with progress; false (shown) on failure. */
export async function installBundled(deps: InstallDeps, wheel: string): Promise<boolean> {
  const { log, status } = deps;
  const python = await findPython(vscode.workspace.getConfiguration("ren").get<string>("server.python"), deps.probe);
  if ("problem" in python) {
    log.error(`Cannot install the server: ${python.problem}.`);
    void vscode.window.showErrorMessage(
      `Ren: ${python.problem}. Install Python ${MIN_PYTHON.join(".")} or newer, or set ren.server.python to one.`,
    );
    return false;
  }
  const env = privateEnv(deps.storage, process.platform);
  log.info(`Installing ${wheel} into ${env.dir} with ${python.python} (Python ${python.version}).`);
  status.setState("starting");
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Ren: installing the server" },
      (progress) =>
        installPrivate(env, python, wheel, {
          report: (message) => progress.report({ message }),
          log: (line) => log.info(`[install] ${line}`),
        }),
    );
  } catch (error) {
    status.setState("failed");
    log.error(`Installing the server failed: ${describe(error)}`);
    void vscode.window.showErrorMessage(`Ren: ${describe(error)}. Ren: Show log has the details.`, "Show log").then((choice) => {
      if (choice === "Show log") {
        log.show();
      }
    });
    return false;
  }
  log.info(`The server is installed in ${env.dir}.`);
  void vscode.window.setStatusBarMessage("Ren: the server is installed", 8000);
  return true;
  }
