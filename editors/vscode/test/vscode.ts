/**
 * A small stand-in for the `vscode` module (which exists only inside VS Code): the classes
 * and functions the extension's logic touches, behaving like VS Code's where it matters.
 * vitest.config.mts aliases `vscode` to this file; tests replace `window` functions with spies.
 */

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}

  isBefore(other: Position): boolean {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }

  isEqual(other: Position): boolean {
    return this.line === other.line && this.character === other.character;
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;

  constructor(start: Position, end: Position);
  constructor(startLine: number, startCharacter: number, endLine: number, endCharacter: number);
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    const start = typeof a === "number" ? new Position(a, b as number) : a;
    const end = typeof a === "number" ? new Position(c ?? 0, d ?? 0) : (b as Position);
    [this.start, this.end] = end.isBefore(start) ? [end, start] : [start, end];
  }

  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}

  static file(path: string): Uri {
    return new Uri("file", path);
  }

  static parse(value: string): Uri {
    const colon = value.indexOf(":");
    return new Uri(value.slice(0, colon), value.slice(colon + 1).replace(/^\/\//, ""));
  }

  get fsPath(): string {
    return this.path;
  }

  toString(): string {
    return this.scheme === "file" ? `file://${this.path}` : `${this.scheme}:${this.path}`;
  }
}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}

export class Diagnostic {
  source?: string;
  code?: string | number;

  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: DiagnosticSeverity = DiagnosticSeverity.Error,
  ) {}
}

export class CodeActionKind {
  static readonly Empty = new CodeActionKind("");
  static readonly QuickFix = new CodeActionKind("quickfix");
  static readonly Refactor = new CodeActionKind("refactor");
  static readonly RefactorRewrite = new CodeActionKind("refactor.rewrite");
  static readonly Source = new CodeActionKind("source");

  constructor(readonly value: string) {}

  append(part: string): CodeActionKind {
    return new CodeActionKind(this.value ? `${this.value}.${part}` : part);
  }

  contains(other: CodeActionKind): boolean {
    return this.value === "" || other.value === this.value || other.value.startsWith(`${this.value}.`);
  }

  intersects(other: CodeActionKind): boolean {
    return this.contains(other) || other.contains(this);
  }
}

/** As in VS Code's API (not the protocol's 1 and 2). */
export enum InlineCompletionTriggerKind {
  Invoke = 0,
  Automatic = 1,
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class Disposable {
  constructor(private readonly callOnDispose: () => unknown) {}

  dispose(): void {
    this.callOnDispose();
  }
}

export class EventEmitter<T> {
  private readonly listeners = new Set<(value: T) => unknown>();

  readonly event = (listener: (value: T) => unknown, thisArgs?: unknown, disposables?: Disposable[]): Disposable => {
    const bound = (value: T): unknown => listener.call(thisArgs, value);
    this.listeners.add(bound);
    const disposable = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(disposable);
    return disposable;
  };

  fire(value: T): void {
    for (const listener of this.listeners) {
      listener(value);
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

export interface FakeStatusBarItem {
  id: string;
  alignment: StatusBarAlignment;
  priority: number | undefined;
  name?: string;
  text: string;
  tooltip?: string;
  command?: string;
  backgroundColor?: ThemeColor;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export interface FakeProgress {
  options: { location: ProgressLocation; title?: string; cancellable?: boolean };
  reports: { message?: string }[];
  cancel(): void;
  done: boolean;
}

/** Every withProgress call, to inspect in tests. */
export const progresses: FakeProgress[] = [];

export const window = {
  activeTextEditor: undefined as unknown,
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority?: number): FakeStatusBarItem {
    return {
      id,
      alignment,
      priority,
      text: "",
      visible: false,
      show() {
        this.visible = true;
      },
      hide() {
        this.visible = false;
      },
      dispose() {
        this.visible = false;
      },
    };
  },
  withProgress<R>(
    options: FakeProgress["options"],
    task: (
      progress: { report(value: { message?: string }): void },
      token: { onCancellationRequested(listener: () => void): Disposable },
    ) => Thenable<R>,
  ): Thenable<R> {
    const cancelled = new EventEmitter<void>();
    const record: FakeProgress = { options, reports: [], cancel: () => cancelled.fire(), done: false };
    progresses.push(record);
    return Promise.resolve(
      task({ report: (value) => record.reports.push(value) }, { onCancellationRequested: cancelled.event }),
    ).then((result) => {
      record.done = true;
      return result;
    });
  },
  setStatusBarMessage(): Disposable {
    return new Disposable(() => undefined);
  },
  showInputBox(): Thenable<string | undefined> {
    return Promise.resolve(undefined);
  },
  showQuickPick(): Thenable<unknown> {
    return Promise.resolve(undefined);
  },
  showErrorMessage(): Thenable<string | undefined> {
    return Promise.resolve(undefined);
  },
  showInformationMessage(): Thenable<string | undefined> {
    return Promise.resolve(undefined);
  },
};

// -- the extension host: enough of it for the bundled extension to run a real server ----------

export const version = "1.91.0";

export interface FakeTextDocument {
  uri: Uri;
  fileName: string;
  languageId: string;
  version: number;
  isClosed: boolean;
  isUntitled: boolean;
  readonly lineCount: number;
  eol: number;
  getText(range?: Range): string;
  lineAt(line: number): { text: string; isEmptyOrWhitespace: boolean; range: Range };
}

/** A document as the host holds it: what the client syncs to the server with didOpen. */
export function textDocument(uri: Uri, languageId: string, text: string): FakeTextDocument {
  const state = { text };
  const lines = (): string[] => state.text.split("\n");
  const offset = (p: Position): number =>
    lines().slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  const document: FakeTextDocument & { setText(text: string): void } = {
    uri,
    fileName: uri.fsPath,
    languageId,
    version: 1,
    isClosed: false,
    isUntitled: uri.scheme === "untitled",
    get lineCount() {
      return lines().length;
    },
    eol: 1,
    getText: (range) => (range === undefined ? state.text : state.text.slice(offset(range.start), offset(range.end))),
    lineAt(line) {
      const lineText = lines()[line] ?? "";
      return { text: lineText, isEmptyOrWhitespace: !lineText.trim(), range: new Range(line, 0, line, lineText.length) };
    },
    setText(value: string) {
      state.text = value;
      document.version += 1;
    },
  };
  return document;
}

export class TextEdit {
  constructor(
    readonly range: Range,
    readonly newText: string,
  ) {}
}

export class WorkspaceEdit {
  private readonly edits = new Map<string, [Uri, TextEdit[]]>();

  set(uri: Uri, edits: (TextEdit | [TextEdit, unknown])[]): void {
    this.edits.set(uri.toString(), [uri, edits.map((edit) => (Array.isArray(edit) ? edit[0] : edit))]);
  }

  entries(): [Uri, TextEdit[]][] {
    return [...this.edits.values()];
  }

  get size(): number {
    return this.edits.size;
  }
}

const documentChanged = new EventEmitter<{ document: FakeTextDocument; contentChanges: unknown[]; reason: undefined }>();

/** Every edit applied through workspace.applyEdit, by document URI. */
export const appliedEdits: { uri: string; edits: TextEdit[] }[] = [];

/** Applies an edit to the open documents it touches (others, like output documents, are recorded only). */
function applyEdit(edit: WorkspaceEdit): Thenable<boolean> {
  for (const [uri, edits] of edit.entries()) {
    appliedEdits.push({ uri: uri.toString(), edits });
    const document = workspace.textDocuments.find((d) => d.uri.toString() === uri.toString()) as
      | (FakeTextDocument & { setText(text: string): void })
      | undefined;
    if (document === undefined) {
      continue;
    }
    let text = document.getText();
    const lines = text.split("\n");
    const offset = (p: Position): number => lines.slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
    const changes = [...edits]
      .sort((a, b) => offset(b.range.start) - offset(a.range.start))
      .map((textEdit) => {
        const [start, end] = [offset(textEdit.range.start), offset(textEdit.range.end)];
        text = text.slice(0, start) + textEdit.newText + text.slice(end);
        return { range: textEdit.range, rangeOffset: start, rangeLength: end - start, text: textEdit.newText };
      });
    document.setText(text);
    // What the client turns into didChange, as VS Code reports an edit.
    documentChanged.fire({ document, contentChanges: changes, reason: undefined });
  }
  return Promise.resolve(true);
}

export interface Layers {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Settings by full key ("ren.maxTokens"), as the user and the workspace set them. */
export const settings = new Map<string, Layers>();
const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

function effective(layers: Layers | undefined): unknown {
  if (layers === undefined) {
    return undefined;
  }
  const set = [layers.workspaceFolderValue, layers.workspaceValue, layers.globalValue].find((v) => v !== undefined);
  return set !== undefined ? set : layers.defaultValue;
}

function configuration(section: string | undefined) {
  const full = (key: string): string => (section ? `${section}.${key}` : key);
  return {
    get(key: string, fallback?: unknown): unknown {
      const direct = effective(settings.get(full(key)));
      if (direct !== undefined) {
        return direct;
      }
      // A section asked for as a whole: its keys as an object (what VS Code returns).
      const prefix = `${full(key)}.`;
      const nested = [...settings.keys()].filter((k) => k.startsWith(prefix));
      if (nested.length > 0) {
        return Object.fromEntries(nested.map((k) => [k.slice(prefix.length), effective(settings.get(k))]));
      }
      return fallback;
    },
    has: (key: string) => settings.has(full(key)),
    inspect: (key: string) => ({ key: full(key), ...settings.get(full(key)) }),
    update: () => Promise.resolve(),
  };
}

/** Changes a setting as the Settings editor would, and tells the listeners. */
export function setSetting(key: string, layer: keyof Layers, value: unknown): void {
  const layers = { ...settings.get(key) };
  if (value === undefined) {
    delete layers[layer];
  } else {
    layers[layer] = value;
  }
  settings.set(key, layers);
  configurationChanged.fire({
    affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`),
  });
}

export const workspace = {
  textDocuments: [] as FakeTextDocument[],
  workspaceFolders: undefined,
  getConfiguration: (section?: string) => configuration(section),
  onDidChangeConfiguration: configurationChanged.event,
  onDidChangeTextDocument: documentChanged.event,
  applyEdit,
  createFileSystemWatcher: () => ({
    onDidCreate: new EventEmitter().event,
    onDidChange: new EventEmitter().event,
    onDidDelete: new EventEmitter().event,
    dispose: () => undefined,
  }),
  openTextDocument: (uri: Uri) => Promise.resolve(textDocument(uri, "markdown", "")),
};

export const languages = {
  getDiagnostics: (_uri?: Uri): Diagnostic[] => [],
  match(selector: unknown, document: FakeTextDocument): number {
    const filters = (Array.isArray(selector) ? selector : [selector]) as (string | { language?: string; scheme?: string })[];
    const matches = filters.some((filter) =>
      typeof filter === "string"
        ? filter === document.languageId
        : (filter.language === undefined || filter.language === document.languageId) &&
          (filter.scheme === undefined || filter.scheme === document.uri.scheme),
    );
    return matches ? 10 : 0;
  },
};

/** Commands registered by the extension (and the language client), by id. */
export const registeredCommands = new Map<string, (...args: unknown[]) => unknown>();
/** Every `executeCommand` of a command nobody registered (setContext, openSettings…). */
export const executedCommands: { command: string; args: unknown[] }[] = [];

export const commands = {
  registerCommand(id: string, callback: (...args: unknown[]) => unknown): Disposable {
    if (registeredCommands.has(id)) {
      throw new Error(`command '${id}' already exists`);
    }
    registeredCommands.set(id, callback);
    return new Disposable(() => registeredCommands.delete(id));
  },
  executeCommand(command: string, ...args: unknown[]): Thenable<unknown> {
    const callback = registeredCommands.get(command);
    if (callback !== undefined) {
      return Promise.resolve(callback(...args));
    }
    executedCommands.push({ command, args });
    return Promise.resolve(undefined);
  },
};

export const env = {
  appName: "Visual Studio Code",
  appRoot: "/",
  language: "en",
  machineId: "test",
  sessionId: "test",
  uriScheme: "vscode",
  clipboard: { text: "", writeText: (text: string) => Promise.resolve(void (env.clipboard.text = text)) },
};

/** Lines written to output channels, by channel name. */
export const outputLines = new Map<string, string[]>();

export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

function outputChannel(name: string) {
  const lines: string[] = [];
  outputLines.set(name, lines);
  const write =
    (level: string) =>
    (message: unknown, ...args: unknown[]): void => {
      lines.push(`[${level}] ${String(message)}${args.length ? " " + args.map((a) => String(a)).join(" ") : ""}`);
    };
  return {
    name,
    logLevel: LogLevel.Trace,
    onDidChangeLogLevel: new EventEmitter<LogLevel>().event,
    trace: write("trace"),
    debug: write("debug"),
    info: write("info"),
    warn: write("warning"),
    error: write("error"),
    append: (text: string) => void lines.push(text),
    appendLine: (text: string) => void lines.push(text),
    replace: (text: string) => void lines.splice(0, lines.length, text),
    clear: () => void lines.splice(0, lines.length),
    show: () => undefined,
    hide: () => undefined,
    dispose: () => undefined,
  };
}

/** Messages shown to the user, in order. */
export const messages: { kind: "error" | "warning" | "info"; text: string }[] = [];

Object.assign(window, {
  visibleTextEditors: [],
  tabGroups: { all: [], onDidChangeTabs: new EventEmitter().event, onDidChangeTabGroups: new EventEmitter().event },
  createOutputChannel: outputChannel,
  showTextDocument: () => Promise.resolve(undefined),
  showErrorMessage: (text: string) => (messages.push({ kind: "error", text }), Promise.resolve(undefined)),
  showWarningMessage: (text: string) => (messages.push({ kind: "warning", text }), Promise.resolve(undefined)),
  showInformationMessage: (text: string) => (messages.push({ kind: "info", text }), Promise.resolve(undefined)),
});
