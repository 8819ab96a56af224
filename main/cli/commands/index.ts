// The `causeway` subcommands. To add one: write commands/<name>.ts exporting a Command and
// add one line here.
import type { Command } from '../context.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { removeCommand } from './remove.js';
import { renameCommand } from './rename.js';
import { showCommand } from './show.js';

export const commands: Record<string, Command> = {
  import: importCommand,
  list: listCommand,
  show: showCommand,
  rename: renameCommand,
  remove: removeCommand,
};
