/** Documents, editors and the client's converter, for tests. */
import { createRequire } from "node:module";
import type * as code from "vscode";
import type { Code2ProtocolConverter } from "vscode-languageclient";
import { Position, Range, Selection, Uri } from "./vscode";

export interface FakeDocument {
  uri: Uri;
  languageId: string;
  lineCount: number;
  lineAt(line: number): { text: string; isEmptyOrWhitespace: boolean; range: Range };
  getText(range?: Range): string;
}

/** A document as VS Code models it: lines split on \n, a last (maybe empty) line after it. */
export function fakeDocument(
  text: string,
  { languageId = "python", uri = Uri.file("/work/src/billing.py") }: { languageId?: string; uri?: Uri } = {},
): FakeDocument {
  const lines = text.split("\n");
  const offset = (p: Position): number =>
    lines.slice(0, p.line).reduce((sum, line) => sum + line.length + 1, 0) + p.character;
  return {
    uri,
    languageId,
    lineCount: lines.length,
    lineAt(line) {
      const lineText = lines[line];
      if (lineText === undefined) {
        throw new Error(`Illegal value for line: ${line}`);
      }
      return {
        text: lineText,
        isEmptyOrWhitespace: lineText.trim() === "",
        range: new Range(line, 0, line, lineText.length),
      };
    },
    getText(range) {
      return range === undefined ? text : text.slice(offset(range.start), offset(range.end));
    },
  };
}

/** An editor on the document; `selection` is [anchorLine, anchorChar, activeLine, activeChar]. */
export function fakeEditor(document: FakeDocument, selection: [number, number, number, number] = [0, 0, 0, 0]): code.TextEditor {
  const [al, ac, bl, bc] = selection;
  return { document, selection: new Selection(new Position(al, ac), new Position(bl, bc)) } as unknown as code.TextEditor;
}

/** vscode-languageclient's own code2ProtocolConverter (test/setup.ts lets it load). */
export function realConverter(): Code2ProtocolConverter {
  const require = createRequire(import.meta.url);
  const module = require("vscode-languageclient/$test/common/codeConverter") as {
    createConverter(): Code2ProtocolConverter;
  };
  return module.createConverter();
}
