// The resource model's public face inside the service.

export type { IdPerms, IpamSubnet, KeyValuePairs, PolicyRule, VnSubnets } from './common.js';
export {
  ajv,
  bodySchemaOf,
  describeSchemaError,
  fieldOf,
  model,
  type RefField,
  type ResourceType,
  typeByPlural,
} from './model.js';
export { type ResourceDefinition, resources } from './resources.js';
export { type Schema, type Static, t } from './schema.js';
export type {
  ConfigObjectOf,
  InstanceIp,
  NetworkPolicy,
  Reference,
  ResourceTypeName,
  SecurityGroup,
  VirtualMachineInterface,
  VirtualNetwork,
  VirtualRouter,
} from './types.js';
