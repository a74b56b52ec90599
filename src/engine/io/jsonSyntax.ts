/**
 * Where a text stops being JSON, as a line and column for error messages. V8's `JSON.parse`
 * messages give an exact "at position N" for most errors but not for all ("Unexpected token 'x',
 * … is not valid JSON", "Unexpected end of JSON input") and never a line; for those,
 * jsonc-parser (VS Code's own JSON scanner) reports the offset of the first bad token.
 */
import { parse, type ParseError } from 'jsonc-parser';

export interface JsonErrorLocation {
  /** Offset of the first character that is not JSON (`text.length`: the text ends early). */
  offset: number;
  line: number;
  column: number;
  /** `unexpected "x"`, `unexpected line break`, … or `the text ends early`. */
  found: string;
}

/** Locates the syntax error that made `JSON.parse(text)` throw `message`. */
export function jsonErrorLocation(text: string, message: string): JsonErrorLocation {
  const offset = Math.min(text.length, v8Position(message) ?? firstSyntaxError(text));
  const { line, column } = lineColumn(text, offset);
  const found = offset >= text.length ? 'the text ends early' : `unexpected ${describeChar(text[offset])}`;
  return { offset, line, column, found };
}

function v8Position(message: string): number | undefined {
  const m = /at position (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

function firstSyntaxError(text: string): number {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.length ? errors[0].offset : text.length;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function describeChar(ch: string): string {
  if (ch === '\n') return 'line break';
  if (/\s/.test(ch)) return 'whitespace';
  return `"${ch}"`;
}
