// `npm run faults`: every fault case in turn on one lab of two hosts, under load, and the table
// of what each one lost. `node test/dist/faults/run.js [substring …]` runs only the cases whose
// name contains a substring. Needs root (network namespaces, BPF).
import { labUnavailable } from '../lab/lab.js';
import { faultCases } from './cases.js';
import { diskFaultCases } from './disk-cases.js';
import { type FaultVerdict, runFaultCase, verdictTable } from './run-case.js';
import { upTrafficLab } from './traffic-lab.js';

const filters = process.argv.slice(2);
const chosen = [...faultCases, ...diskFaultCases].filter(
  (item) => filters.length === 0 || filters.some((filter) => item.name.includes(filter)),
);
const unavailable = labUnavailable();
if (unavailable) {
  process.stderr.write(`faults: ${unavailable}\n`);
  process.exit(1);
}
if (chosen.length === 0) {
  process.stderr.write(`faults: no case matches ${filters.join(', ')}\n`);
  process.exit(1);
}

const fault = await upTrafficLab('run');
const verdicts: FaultVerdict[] = [];
try {
  for (const [index, item] of chosen.entries()) {
    process.stdout.write(`faults: ${item.name}…\n`);
    const verdict = await runFaultCase(fault.lab, item, index);
    verdicts.push(verdict);
    process.stdout.write(`${JSON.stringify(verdict)}\n`);
  }
} finally {
  await fault.down();
}
process.stdout.write(
  '\nLoad: ping every 20 ms from pod a (h1) to pod b (h2); REST writes (network-policy creates, one in flight) ' +
    'throughout; pod churn (add then delete, one at a time) on h1 in the agent cases.\n\n',
);
process.stdout.write(`${verdictTable(verdicts)}\n`);
