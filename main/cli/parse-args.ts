// node:util parseArgs with errors turned into CliError (the user sees the reason, exit 1).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './context.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new CliError(`${e instanceof Error ? e.message : String(e)}\n${usage}`);
  }
}
