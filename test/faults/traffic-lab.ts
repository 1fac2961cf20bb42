// The lab every fault case runs on: two hosts, network red, pod `a` on h1 and pod `b` on h2,
// and a ping between them answering before any fault is injected.
import { waitFor } from '@weft/kit/testing';
import { type FaultLab, upFaultLab } from './fault-lab.js';

export async function upTrafficLab(tag: string): Promise<FaultLab> {
  const fault = await upFaultLab(tag, 2);
  try {
    const { lab } = fault;
    await lab.config.createNetwork('red', '10.41.0.0/22');
    await lab.addPod('a', 'h1', ['red']);
    await lab.addPod('b', 'h2', ['red']);
    const address = lab.podAddress('b', 'red');
    await waitFor(
      () => {
        try {
          lab.exec('a', 'ping', ['-c', '1', '-W', '1', address]);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'pod a to reach pod b across hosts' },
    );
    return fault;
  } catch (error) {
    await fault.down();
    throw error;
  }
}
