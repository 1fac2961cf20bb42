// CNI_ARGS: "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=pod;K8S_POD_UID=uid;IgnoreUnknown=1".
// Unknown keys are ignored whatever IgnoreUnknown says: the runtime may pass anything.
import { CniCode, CniError } from './errors.js';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function parseCniArgs(raw: string | undefined): PodIdentity {
  const values = new Map<string, string>();
  for (const pair of (raw ?? '').split(';')) {
    if (pair.trim() === '') continue;
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      throw new CniError(CniCode.INVALID_ENVIRONMENT, 'CNI_ARGS is malformed', `"${pair}" is not KEY=VALUE`);
    }
    values.set(pair.slice(0, equals).trim(), pair.slice(equals + 1).trim());
  }
  return {
    namespace: values.get('K8S_POD_NAMESPACE') ?? '',
    name: values.get('K8S_POD_NAME') ?? '',
    uid: values.get('K8S_POD_UID') ?? '',
  };
}
