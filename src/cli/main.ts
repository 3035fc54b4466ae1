// The nnzip CLI: dispatch to one command, print `nnzip: error: ...` for bad input.
import { NnzipError } from '../ir/errors.js';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { discardPending } from './outputs.js';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: nnzip COMMAND [options]', '', 'commands:', ...lines, '', 'Run `nnzip COMMAND --help` for its options.'].join('\n');
}

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

export async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = find(name);
  if (!command) {
    console.error(`nnzip: error: unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    discardPending();
    if (e instanceof NnzipError) {
      console.error(`nnzip: error: ${e.message}`);
      if (debug) console.error(e.stack);
      return e.exitCode;
    }
    console.error(`nnzip: internal error: ${(e as Error).message ?? e}${debug ? '' : ' (run with --debug for the stack trace)'}`);
    if (debug) console.error((e as Error).stack);
    return 1;
  } finally {
    discardPending(); // outputs of a command that did not commit them
  }
}
