// How a failure reads on stderr: what failed, the server's reason, the field, and a hint.
import { CliError } from '../errors.js';
import { paint } from '../output/terminal.js';

export function reportError(colour: boolean, error: unknown, subject?: string): void {
  if (!(error instanceof CliError)) {
    process.stderr.write(`${paint(colour, 'red', 'error:')} ${(error as Error)?.stack ?? String(error)}\n`);
    return;
  }
  const lines = [`${paint(colour, 'red', 'error:')} ${subject ? `${subject}: ` : ''}${error.message} (${error.code})`];
  if (error.details.field) lines.push(`  field: ${error.details.field}`);
  if (error.details.hint) lines.push(`  hint: ${error.details.hint}`);
  process.stderr.write(`${lines.join('\n')}\n`);
}
