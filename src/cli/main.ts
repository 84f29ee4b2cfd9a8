/**
 * @module cli/main — the `weir` command: builds the program for the command named (see
 * cli/program) and runs it; expected failures print one line, never a stack trace.
 */
import { WeirError } from '../model/index.js';
import { buildProgram, commandWord } from './program.js';

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(commandWord(argv.slice(2)));
    await program.parseAsync(argv);
  } catch (err) {
    // Expected failures (bad options, unreadable files) print one line, never a stack trace.
    if (err instanceof WeirError) {
      process.stderr.write(`weir: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof Error && 'code' in err && (err.code === 'EADDRINUSE' || err.code === 'EACCES')) {
      process.stderr.write(`weir: cannot listen: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await main(process.argv);
