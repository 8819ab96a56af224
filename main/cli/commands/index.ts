// The `causeway` subcommands. To add one: write commands/<name>.ts exporting a Command and
// add one line here.
import type { Command } from '../context.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { removeCommand } from './remove.js';
import { renameCommand } from './rename.js';
import { setCommand } from './set.js';
import { showCommand } from './show.js';
import { connectCommand } from './connect.js';
import { statusCommand } from './status.js';
import { disconnectCommand } from './disconnect.js';
import { logsCommand } from './logs.js';
import { certCommand } from './cert.js';
import { logoutCommand } from './logout.js';

export const commands: Record<string, Command> = {
  import: importCommand,
  list: listCommand,
  show: showCommand,
  rename: renameCommand,
  set: setCommand,
  remove: removeCommand,
  connect: connectCommand,
  status: statusCommand,
  disconnect: disconnectCommand,
  logs: logsCommand,
  cert: certCommand,
  logout: logoutCommand,
};
