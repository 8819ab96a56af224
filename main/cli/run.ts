// The `causeway` dispatcher: `causeway <command> [args]`, `causeway help [command]`,
// `causeway --version`. Exit status: 0 success, 1 bad input or a refused operation (the reason
// on stderr), 2 an unexpected internal error.
import pkg from '../../package.json' with { type: 'json' };
import { ProfileStoreError } from '../profiles/store.js';
import { FileStoreError } from '../secrets/file-store.js';
import { commands } from './commands/index.js';
import { CliError, closeCliTerminal, type CliIO } from './context.js';

function help(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: causeway <command> [arguments]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `causeway help <command> shows a command's options; causeway --version prints the version.\n`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout)(help());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`causeway ${pkg.version}\n`);
    return 0;
  }
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) io.stdout(help());
    else if (commands[topic]) io.stdout(`${commands[topic].usage}\n`);
    else {
      io.stderr(`causeway: no command "${topic}"\n${help()}`);
      return 1;
    }
    return 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    io.stderr(`causeway: no command "${name}"\n${help()}`);
    return 1;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (e) {
    // A missing or wrong passphrase of the secret file is the user's answer, not a crash.
    if (e instanceof CliError || e instanceof ProfileStoreError || e instanceof FileStoreError) {
      io.stderr(`causeway: ${e.message}\n`);
      return 1;
    }
    io.stderr(`causeway: unexpected error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  } finally {
    closeCliTerminal();
  }
}
