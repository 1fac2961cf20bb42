// `weft-config-api export` and `import`: the data set of the store the options name, on stdout
// or from stdin (./transfer.ts). Exit 0 on success; 1 with one line on stderr otherwise.
import { createInterface } from 'node:readline';
import type { Logger } from '@weft/kit';
import { openStore, type StoreOptions } from './open.js';
import { exportDataSet, importDataSet } from './transfer.js';

export const TRANSFER_COMMANDS = ['export', 'import'] as const;

function fail(command: string, error: unknown): number {
  process.stderr.write(`weft-config-api ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

export async function runTransfer(
  command: (typeof TRANSFER_COMMANDS)[number],
  options: StoreOptions & { logger: Logger },
): Promise<number> {
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore(options);
  } catch (error) {
    return fail(command, error);
  }
  try {
    if (command === 'export') {
      for (const line of exportDataSet(store)) {
        if (!process.stdout.write(`${line}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      }
    } else {
      const objects = await importDataSet(
        store,
        createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY }),
      );
      process.stderr.write(`weft-config-api import: ${objects} object(s) imported\n`);
    }
    return 0;
  } catch (error) {
    return fail(command, error);
  } finally {
    await store.close();
  }
}
