// STATUS: ready when the agent answers and has synced with control.
import { CniCode, CniError } from '../errors.js';
import type { VerbContext } from './context.js';

export async function status(context: Pick<VerbContext, 'agent'>): Promise<void> {
  let answer: Awaited<ReturnType<VerbContext['agent']['status']>>;
  try {
    answer = await context.agent.status();
  } catch (error) {
    throw new CniError(
      CniCode.PLUGIN_NOT_AVAILABLE,
      'the Weft agent is not reachable',
      String((error as Error).message),
      {
        cause: error,
      },
    );
  }
  if (!answer.ready) throw new CniError(CniCode.PLUGIN_NOT_AVAILABLE, 'the Weft agent is not ready', answer.reason);
}
