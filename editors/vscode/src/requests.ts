/**
 * The argument of each server command, built from the editor: pure functions, unit-tested.
 *
 * In two steps: a `Request` in VS Code's terms (what the user pointed at: the selection, or
 * what the cursor is in), then `toProtocol` with the client's code2ProtocolConverter (LSP
 * positions, UTF-16 as negotiated, URIs as the client sends them in didOpen). The argument
 * objects are those of `schemas/commands.schema.json`.
 */
import * as vscode from "vscode";
import type {
  Code2ProtocolConverter,
  Diagnostic as LspDiagnostic,
  Position as LspPosition,
  Range as LspRange,
} from "vscode-languageclient";
import { isSupported, LANGUAGES } from "./languages";

export type ServerCommand =
  | "ren.explain"
  | "ren.refactor"
  | "ren.fix"
  | "ren.generate"
  | "ren.complete"
  | "ren.ask"
  | "ren.analyzeArchitecture"
  | "ren.agent"
  | "ren.undo"
  | "ren.createPullRequest"
  | "ren.cancel";

/** What a command works on, in VS Code's terms. */
export interface Request {
  command: ServerCommand;
  uri?: vscode.Uri;
  range?: vscode.Range;
  position?: vscode.Position;
  diagnostics?: readonly vscode.Diagnostic[];
  instruction?: string;
  question?: string;
  /** a folder relative to the workspace root (Analyze architecture) */
  path?: string;
  /** the agent's task, and the command that verifies it */
  task?: string;
  verify?: string;
  /** the agent session to undo */
  session?: string;
  /** the pull request's title (Create pull request; unset: Astra writes it) */
  title?: string;
}

/** A request, or why the command cannot run here (shown to the user as is). */
export type Built = Request | { error: string };

export interface Argument {
  uri?: string;
  range?: LspRange;
  position?: LspPosition;
  diagnostics?: LspDiagnostic[];
  instruction?: string;
  question?: string;
  path?: string;
  task?: string;
  verify?: string;
  session?: string;
  title?: string;
}

type Converter = Pick<Code2ProtocolConverter, "asUri" | "asRange" | "asPosition" | "asDiagnostic">;

/** The command's one argument object, as `schemas/commands.schema.json` describes it. */
export function toProtocol(request: Request, c2p: Converter): Argument {
  const arg: Argument = {};
  if (request.question !== undefined) {
    arg.question = request.question;
  }
  if (request.uri !== undefined) {
    arg.uri = c2p.asUri(request.uri);
  }
  if (request.range !== undefined) {
    arg.range = c2p.asRange(request.range);
  }
  if (request.position !== undefined) {
    arg.position = c2p.asPosition(request.position);
  }
  if (request.diagnostics !== undefined && request.diagnostics.length > 0) {
    arg.diagnostics = request.diagnostics.map((d) => c2p.asDiagnostic(d));
  }
  if (request.instruction !== undefined) {
    arg.instruction = request.instruction;
  }
  if (request.path !== undefined) {
    arg.path = request.path;
  }
  if (request.task !== undefined) {
    arg.task = request.task;
  }
  if (request.verify !== undefined) {
    arg.verify = request.verify;
  }
  if (request.session !== undefined) {
    arg.session = request.session;
  }
  if (request.title !== undefined) {
    arg.title = request.title;
  }
  return arg;
}

// -- building requests from the editor ------------------------------------------------------

export type Editor = Pick<vscode.TextEditor, "document" | "selection">;

/** Why the server cannot work on this editor's document, or undefined when it can. */
export function unsupported(editor: Editor | undefined): string | undefined {
  if (editor === undefined) {
    return "Open a file and select some code first.";
  }
  if (!isSupported(editor.document)) {
    return (
      `Ren does not work on this file (${editor.document.languageId}, ${editor.document.uri.scheme}); ` +
      `it works on saved or untitled ${LANGUAGES.join(", ")} files.`
    );
  }
  return undefined;
}

/** The paragraph (non-blank lines) around a line, as the server's Explain action takes it. */
export function paragraphAround(document: vscode.TextDocument, line: number): vscode.Range | undefined {
  if (line >= document.lineCount || document.lineAt(line).isEmptyOrWhitespace) {
    return undefined;
  }
  let first = line;
  while (first > 0 && !document.lineAt(first - 1).isEmptyOrWhitespace) {
    first -= 1;
  }
  let last = line;
  while (last + 1 < document.lineCount && !document.lineAt(last + 1).isEmptyOrWhitespace) {
    last += 1;
  }
  return wholeLines(document, first, last);
}

/** Lines first..last with the last line break (or to the end of a file without one). */
function wholeLines(document: vscode.TextDocument, first: number, last: number): vscode.Range {
  const end =
    last + 1 < document.lineCount ? new vscode.Position(last + 1, 0) : document.lineAt(last).range.end;
  return new vscode.Range(new vscode.Position(first, 0), end);
}

export function explainRequest(editor: Editor | undefined): Built {
  const problem = unsupported(editor);
  if (problem !== undefined || editor === undefined) {
    return { error: problem ?? "" };
  }
  const { document, selection } = editor;
  const range = selection.isEmpty ? paragraphAround(document, selection.active.line) : selection;
  if (range === undefined || !document.getText(range).trim()) {
    return { error: "Select the code to explain, or put the cursor in it." };
  }
  return { command: "ren.explain", uri: document.uri, range };
}

/** Refactor needs a selection; its instruction is asked for afterwards (and may be empty). */
export function refactorRequest(editor: Editor | undefined, instruction?: string): Built {
  const problem = unsupported(editor);
  if (problem !== undefined || editor === undefined) {
    return { error: problem ?? "" };
  }
  const { document, selection } = editor;
  if (selection.isEmpty || !document.getText(selection).trim()) {
    return { error: "Select the code to refactor first." };
  }
  const request: Request = { command: "ren.refactor", uri: document.uri, range: selection };
  if (instruction?.trim()) {
    request.instruction = instruction.trim();
  }
  return request;
}

function before(a: vscode.Position, b: vscode.Position): boolean {
  return a.line < b.line || (a.line === b.line && a.character < b.character);
}

function overlaps(a: vscode.Range, b: vscode.Range): boolean {
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/**
 * Fix: the selection and the problems in it; with no selection, the lines of the problems on
 * the cursor's line. Without any problem the server still fixes what Astra finds.
 */
export function fixRequest(editor: Editor | undefined, diagnostics: readonly vscode.Diagnostic[]): Built {
  const problem = unsupported(editor);
  if (problem !== undefined || editor === undefined) {
    return { error: problem ?? "" };
  }
  const { document, selection } = editor;
  if (!selection.isEmpty) {
    if (!document.getText(selection).trim()) {
      return { error: "Select the code to fix first." };
    }
    const inside = diagnostics.filter((d) => overlaps(d.range, selection));
    return { command: "ren.fix", uri: document.uri, range: selection, diagnostics: inside };
  }
  const line = selection.active.line;
  const here = diagnostics.filter((d) => d.range.start.line <= line && line <= d.range.end.line);
  if (here.length === 0) {
    return { error: "There is no problem on this line: select the code to fix." };
  }
  const first = Math.min(...here.map((d) => d.range.start.line));
  const last = Math.min(document.lineCount - 1, Math.max(...here.map((d) => d.range.end.line)));
  return { command: "ren.fix", uri: document.uri, range: wholeLines(document, first, last), diagnostics: here };
}

/** Generate: new code after the cursor's line, or after the selection (e.g. a comment). */
export function generateRequest(editor: Editor | undefined, instruction: string): Built {
  const problem = unsupported(editor);
  if (problem !== undefined || editor === undefined) {
    return { error: problem ?? "" };
  }
  if (!instruction.trim()) {
    return { error: "Say what code to write." };
  }
  const { document, selection } = editor;
  const where = selection.isEmpty ? { position: selection.active } : { range: selection };
  return { command: "ren.generate", uri: document.uri, ...where, instruction: instruction.trim() };
}

/** Complete here: Astra's completion at the cursor, inserted as one edit. */
export function completeRequest(editor: Editor | undefined): Built {
  const problem = unsupported(editor);
  if (problem !== undefined || editor === undefined) {
    return { error: problem ?? "" };
  }
  return { command: "ren.complete", uri: editor.document.uri, position: editor.selection.active };
}

/** Ask: the question, and the selection when there is one in a file the server has. */
export function askRequest(editor: Editor | undefined, question: string): Built {
  if (!question.trim()) {
    return { error: "Type a question." };
  }
  const request: Request = { command: "ren.ask", question: question.trim() };
  if (editor !== undefined && unsupported(editor) === undefined && !editor.selection.isEmpty) {
    request.uri = editor.document.uri;
    request.range = editor.selection;
  }
  return request;
}

// Comment lines that ask for code, as the server's "Generate from this comment" reads them.
const COMMENT = /^\s*(?:#+|\/\/+|--+|\/\*+|\*+|;+|%+)(?=\s|$)\s*(.*?)\s*(?:\*+\/)?\s*$/;
const TODO = /^(?:TODO|FIXME)\b[:\s]*(.*)$/i;

/** The instruction a comment line gives ("# TODO: parse the header"), to prefill the input. */
export function commentInstruction(line: string): string | undefined {
  const comment = COMMENT.exec(line);
  if (comment === null) {
    return undefined;
  }
  let text = (comment[1] ?? "").trim();
  const todo = TODO.exec(text);
  if (todo !== null) {
    text = (todo[1] ?? "").trim();
  }
  return /\p{L}/u.test(text) ? text : undefined;
}

/** Analyze architecture: the whole workspace, or one folder of it (relative, "/" separated). */
export function architectureRequest(folder: string): Built {
  const path = folder.trim().replace(/\\/g, "/").replace(/^\.?\/+|\/+$/g, "");
  if (path.split("/").includes("..")) {
    return { error: "Give a folder inside the workspace." };
  }
  return path ? { command: "ren.analyzeArchitecture", path } : { command: "ren.analyzeArchitecture" };
}

/** `ren.agent`: the task, the verify command when given, the selection when there is one. */
export function agentRequest(editor: Editor | undefined, task: string, verify: string): Built {
  if (!task.trim()) {
    return { error: "Say what the agent should do." };
  }
  const request: Request = { command: "ren.agent", task: task.trim() };
  if (verify.trim()) {
    request.verify = verify.trim();
  }
  if (editor !== undefined && unsupported(editor) === undefined && !editor.selection.isEmpty) {
    request.uri = editor.document.uri;
    request.range = editor.selection;
  }
  return request;
}

/** Create pull request: the title the user typed, or none (Astra writes it from the diff). */
export function pullRequestRequest(title: string): Built {
  const trimmed = title.trim();
  return trimmed ? { command: "ren.createPullRequest", title: trimmed } : { command: "ren.createPullRequest" };
}
