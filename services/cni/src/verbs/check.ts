// CHECK: every interface of the previous result must still be there as it was made: the host
// end present, and in the pod the same name, MAC and addresses.
import { CniCode, CniError } from '../errors.js';
import { hostInterfaceExists, netnsExists, observePodInterface } from '../pod-network.js';
import type { VerbContext } from './context.js';

export async function check(context: VerbContext): Promise<void> {
  const previous = context.netconf.prevResult;
  if (!previous?.interfaces)
    throw new CniError(CniCode.INVALID_CONFIG, 'invalid network config: prevResult is required for CHECK');
  if (!netnsExists(context.netns))
    throw new CniError(CniCode.CONTAINER_UNKNOWN, `network namespace ${context.netns} does not exist`);
  // The pod's side first: a pod interface removed by hand takes its host end with it, and the
  // pod's interface is what the operator should hear about.
  for (const [index, item] of previous.interfaces.entries()) {
    if (!item.sandbox) continue;
    const observed = await observePodInterface(context.netns, item.name);
    if (!observed) throw new CniError(CniCode.INTERFACE_MISMATCH, `interface ${item.name} is missing from the pod`);
    if (item.mac && observed.mac !== item.mac) {
      throw new CniError(
        CniCode.INTERFACE_MISMATCH,
        `interface ${item.name} has MAC ${observed.mac}, expected ${item.mac}`,
      );
    }
    const expected = (previous.ips ?? [])
      .filter((ipConfig) => ipConfig.interface === index)
      .map((ipConfig) => ipConfig.address);
    for (const address of expected) {
      if (!observed.addresses.includes(address)) {
        throw new CniError(CniCode.INTERFACE_MISMATCH, `interface ${item.name} lost address ${address}`);
      }
    }
  }
  for (const item of previous.interfaces) {
    if (!item.sandbox && !(await hostInterfaceExists(item.name))) {
      throw new CniError(CniCode.INTERFACE_MISMATCH, `host interface ${item.name} is missing`);
    }
  }
}
