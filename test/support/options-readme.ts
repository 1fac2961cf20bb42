// Writes each daemon's options table into its README, from the daemon's one declaration (the
// kit's optionsTable), between the marks of ./daemons.ts. Run after changing an option:
//   node test/dist/support/options-readme.js
import { readFileSync, writeFileSync } from 'node:fs';
import { optionsTable } from '@weft/kit';
import { daemons, TABLE_BEGIN, TABLE_END } from './daemons.js';

for (const daemon of daemons) {
  const text = readFileSync(daemon.readme, 'utf8');
  const begin = text.indexOf(TABLE_BEGIN);
  const end = text.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`${daemon.readme} has no options marks`);
  const table = `${TABLE_BEGIN}\n\n${optionsTable(daemon.options)}\n\n`;
  writeFileSync(daemon.readme, text.slice(0, begin) + table + text.slice(end));
  process.stdout.write(`${daemon.readme}: ${Object.keys(daemon.options).length} options\n`);
}
