// @weft/model's public surface: the resource table, what derives from it, and the names services share.

export {
  fqName,
  type IdPerms,
  type IpamSubnet,
  type KeyValuePairs,
  type PolicyRule,
  UUID_PATTERN,
  type VnSubnets,
} from './common.js';
export {
  HOST_BINDING_KEY,
  INTERFACE_NAME_ANNOTATION,
  INTERFACE_ORDER_ANNOTATION,
  keyValueOf,
} from './conventions.js';
export {
  ajv,
  bodySchemaOf,
  type CollectionField,
  describeSchemaError,
  fieldOf,
  model,
  type RefField,
  type ResourceType,
  typeByPlural,
  validatorOf,
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
