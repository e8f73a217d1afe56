/**
 * What each command sends the server for a selection, and what the user is told when it cannot
 * run. Arguments go through vscode-languageclient's real code2ProtocolConverter, so they are
 * what the server receives.
 */
import { describe, expect, it } from "vitest";
import type * as code from "vscode";
import {
  architectureRequest,
  askRequest,
  commentInstruction,
  explainRequest,
  fixRequest,
  generateRequest,
  refactorRequest,
  toProtocol,
  type Built,
} from "../src/requests";
import { fakeDocument, fakeEditor, realConverter } from "./fakes";
import { Diagnostic, DiagnosticSeverity, Range, Uri } from "./vscode";

const c2p = realConverter();
const URI = "file:///work/src/billing.py";
const SOURCE = ["def total(items):", "    s = 0", "    for i in items:", "        s += i.price", "    return s", "", "# TODO: parse the header", ""].join("\n");

function sent(built: Built): unknown {
  if ("error" in built) {
    return built;
  }
  return { command: built.command, arg: toProtocol(built, c2p) };
}

const range = (sl: number, sc: number, el: number, ec: number) => ({
  start: { line: sl, character: sc },
  end: { line: el, character: ec },
});

describe("Explain selection", () => {
  it("sends the selection as {uri, range}", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [1, 4, 3, 20]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: URI, range: range(1, 4, 3, 20) } });
  });

  it("takes a backwards selection the right way round", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [3, 20, 1, 4]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: URI, range: range(1, 4, 3, 20) } });
  });

  it("explains the paragraph around the cursor when nothing is selected", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [2, 5, 2, 5]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: URI, range: range(0, 0, 5, 0) } });
  });

  it("ends the paragraph at the end of a file without a final newline", () => {
    const editor = fakeEditor(fakeDocument("x = 1\ny = 2"), [1, 0, 1, 0]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: URI, range: range(0, 0, 1, 5) } });
  });

  it("asks for a selection on a blank line", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [5, 0, 5, 0]);
    expect(explainRequest(editor)).toEqual({ error: "Select the code to explain, or put the cursor in it." });
  });

  it("sends VS Code's UTF-16 positions unchanged (what the client negotiates with the server)", () => {
    const editor = fakeEditor(fakeDocument("s = '😀' + x\n"), [0, 9, 0, 12]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: URI, range: range(0, 9, 0, 12) } });
  });

  it("works in an unsaved file", () => {
    const uri = Uri.parse("untitled:Untitled-1");
    const editor = fakeEditor(fakeDocument("print(1)\n", { uri }), [0, 0, 0, 8]);
    expect(sent(explainRequest(editor))).toEqual({ command: "ren.explain", arg: { uri: "untitled:Untitled-1", range: range(0, 0, 0, 8) } });
  });

  it("refuses files the server does not have, saying which ones it has", () => {
    const markdown = fakeEditor(fakeDocument("# notes\n", { languageId: "markdown", uri: Uri.file("/work/README.md") }), [0, 0, 0, 7]);
    const built = explainRequest(markdown);
    expect("error" in built && built.error).toMatch(/does not work on this file \(markdown, file\).*python/);
    const diff = fakeEditor(fakeDocument("x\n", { uri: Uri.parse("git:/work/a.py") }), [0, 0, 0, 1]);
    expect("error" in explainRequest(diff)).toBe(true);
    expect(explainRequest(undefined)).toEqual({ error: "Open a file and select some code first." });
  });
});

describe("Refactor selection", () => {
  it("needs a selection", () => {
    expect(refactorRequest(fakeEditor(fakeDocument(SOURCE), [1, 0, 1, 0]))).toEqual({ error: "Select the code to refactor first." });
  });

  it("sends the instruction when one is given, none when it is empty", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [0, 0, 5, 0]);
    expect(sent(refactorRequest(editor, "  use sum()  "))).toEqual({
      command: "ren.refactor",
      arg: { uri: URI, range: range(0, 0, 5, 0), instruction: "use sum()" },
    });
    expect(sent(refactorRequest(editor, ""))).toEqual({ command: "ren.refactor", arg: { uri: URI, range: range(0, 0, 5, 0) } });
  });
});

describe("Fix problems in selection", () => {
  const problem = (line: number, message: string) => {
    const d = new Diagnostic(new Range(line, 8, line, 15), message, DiagnosticSeverity.Error);
    d.source = "pyright";
    return d as unknown as code.Diagnostic;
  };

  it("sends the problems inside the selection, as LSP diagnostics", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [2, 0, 4, 12]);
    const built = fixRequest(editor, [problem(3, '"price" is not a known attribute'), problem(6, "elsewhere")]);
    expect(sent(built)).toEqual({
      command: "ren.fix",
      arg: {
        uri: URI,
        range: range(2, 0, 4, 12),
        diagnostics: [{ range: range(3, 8, 3, 15), message: '"price" is not a known attribute', severity: 1, source: "pyright" }],
      },
    });
  });

  it("without a selection, fixes the lines of the problems on the cursor's line", () => {
    const editor = fakeEditor(fakeDocument(SOURCE), [3, 2, 3, 2]);
    const built = fixRequest(editor, [problem(3, "bad"), problem(1, "other line")]);
    expect(sent(built)).toMatchObject({ command: "ren.fix", arg: { uri: URI, range: range(3, 0, 4, 0) } });
    expect((sent(built) as { arg: { diagnostics: unknown[] } }).arg.diagnostics).toHaveLength(1);
  });

  it("with a selection and no problems, lets Astra find them (no diagnostics field)", () => {
    const built = fixRequest(fakeEditor(fakeDocument(SOURCE), [0, 0, 4, 12]), []);
    expect(sent(built)).toEqual({ command: "ren.fix", arg: { uri: URI, range: range(0, 0, 4, 12) } });
  });

  it("asks for a selection when the cursor's line has no problem", () => {
    expect(fixRequest(fakeEditor(fakeDocument(SOURCE), [0, 0, 0, 0]), [])).toEqual({
      error: "There is no problem on this line: select the code to fix.",
    });
  });
});

describe("Generate code", () => {
  it("writes after the cursor's line (a position) or after the selection (a range)", () => {
    const document = fakeDocument(SOURCE);
    expect(sent(generateRequest(fakeEditor(document, [6, 3, 6, 3]), "parse the header"))).toEqual({
      command: "ren.generate",
      arg: { uri: URI, position: { line: 6, character: 3 }, instruction: "parse the header" },
    });
    expect(sent(generateRequest(fakeEditor(document, [6, 0, 7, 0]), "parse it"))).toEqual({
      command: "ren.generate",
      arg: { uri: URI, range: range(6, 0, 7, 0), instruction: "parse it" },
    });
  });

  it("reads a comment's instruction as the server's code action does", () => {
    expect(commentInstruction("# TODO: parse the header")).toBe("parse the header");
    expect(commentInstruction("    // FIXME retry on 429")).toBe("retry on 429");
    expect(commentInstruction("/* add a cache */")).toBe("add a cache");
    expect(commentInstruction("#include <stdio.h>")).toBeUndefined();
    expect(commentInstruction("# ----------")).toBeUndefined();
    expect(commentInstruction("x = 1  # not a comment line")).toBeUndefined();
  });
});

describe("Ask about the codebase", () => {
  it("sends the question alone without a selection, with {uri, range} with one", () => {
    expect(sent(askRequest(undefined, " where is rounding? "))).toEqual({ command: "ren.ask", arg: { question: "where is rounding?" } });
    const editor = fakeEditor(fakeDocument(SOURCE), [0, 0, 4, 12]);
    expect(sent(askRequest(editor, "why?"))).toEqual({ command: "ren.ask", arg: { question: "why?", uri: URI, range: range(0, 0, 4, 12) } });
    const empty = fakeEditor(fakeDocument(SOURCE), [2, 2, 2, 2]);
    expect(sent(askRequest(empty, "why?"))).toEqual({ command: "ren.ask", arg: { question: "why?" } });
  });

  it("leaves out a selection in a file the server does not have", () => {
    const markdown = fakeEditor(fakeDocument("# notes\n", { languageId: "markdown" }), [0, 0, 0, 7]);
    expect(sent(askRequest(markdown, "why?"))).toEqual({ command: "ren.ask", arg: { question: "why?" } });
  });
});

describe("Analyze architecture", () => {
  it("sends the whole workspace, or a folder relative to its root", () => {
    expect(sent(architectureRequest(""))).toEqual({ command: "ren.analyzeArchitecture", arg: {} });
    expect(sent(architectureRequest(" ./src/billing/ "))).toEqual({
      command: "ren.analyzeArchitecture",
      arg: { path: "src/billing" },
    });
    expect(sent(architectureRequest("src\\billing"))).toEqual({
      command: "ren.analyzeArchitecture",
      arg: { path: "src/billing" },
    });
    expect(architectureRequest("../elsewhere")).toEqual({ error: "Give a folder inside the workspace." });
  });
});
