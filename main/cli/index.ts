// The `causeway` command-line tool. Subcommands are added by main/cli/commands.
const [command] = process.argv.slice(2);
if (command === '--version') {
  console.log('causeway 0.1.0');
} else {
  console.error('usage: causeway <import|list|show|rename|remove|connect|status|disconnect|logs|cert> ...');
  process.exitCode = command ? 1 : 0;
}
