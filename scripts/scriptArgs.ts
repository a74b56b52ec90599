/**
 * Command-line options of the repository's Node scripts (the benchmarks, samples/train), parsed
 * with Node's `util.parseArgs` but with the scripts' own messages: `unknown option --x (…)`,
 * `--x needs a value`, `--x needs a number`. `util.parseArgs` in strict mode would reject the same
 * input, with messages that do not point to where the options are documented.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The parsed values: a string per string option, `true` per boolean flag given. */
export type ScriptValues<O extends OptionsConfig> = { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };

/**
 * Parses `argv` against `options` (long options only, no positionals). `seeAlso` ends the
 * unknown-option message, e.g. `(see the header of bench/run.ts)`.
 */
export function parseScriptArgs<O extends OptionsConfig>(argv: string[], options: O, seeAlso?: string): ScriptValues<O> {
  // Non-strict with tokens: every token is checked below, so that the messages are the scripts'.
  const { values, tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const unknown = (arg: string): Error => new Error(`unknown option ${arg}${seeAlso ? ` ${seeAlso}` : ''}`);
  for (const t of tokens) {
    if (t.kind === 'positional') throw unknown(t.value);
    if (t.kind === 'option-terminator') throw unknown('--');
    const spec = Object.hasOwn(options, t.name) ? options[t.name] : undefined;
    if (!spec) throw unknown(t.rawName);
    if (spec.type === 'string' && t.value === undefined) throw new Error(`${t.rawName} needs a value`);
    if (spec.type === 'boolean' && t.value !== undefined) throw new Error(`${t.rawName} takes no value`);
  }
  return values as ScriptValues<O>;
}

/** `text` as a finite number; `undefined` when the option was not given. */
export function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`${name} needs a number (got "${text}")`);
  return n;
}
