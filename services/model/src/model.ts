// What the rest of the service knows about the resource model, derived once from ./resources.ts:
// field names, parent and child types, references and back-references, and the JSON Schemas of
// request bodies (one compiled validator per type, shared by REST and gRPC).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { fqName, uuid } from './common.js';
import { commonProperties, type RefDefinition, type ResourceDefinition, resources } from './resources.js';
import { type Schema, t } from './schema.js';

/** "virtual-network" → "virtual_network": how a type is spelled inside field names. */
export function fieldOf(type: string): string {
  return type.replace(/-/g, '_');
}

export interface RefField extends RefDefinition {
  /** "network_ipam_refs" */
  field: string;
}

export interface ResourceType extends ResourceDefinition {
  /** "virtual-networks": the REST collection and the list response key. */
  plural: string;
  refFields: Map<string, RefField>;
  /** Types that may have this type as parent. */
  childTypes: string[];
  /** Types with references to this type. */
  backRefTypes: string[];
  /** Every field a body may carry (for the `filters` and `fields` list options). */
  bodyFields: Set<string>;
  /** The inner object of a create body: {"<type>": THIS}. */
  objectSchema: Schema;
  validateObject: ValidateFunction;
}

/** Fields every object has that the server owns: accepted in a body so a read can be written back, then ignored. */
export const READ_ONLY_FIELDS = ['href', 'id_perms.created', 'id_perms.last_modified'] as const;

const refItem = (attr?: Schema) =>
  t.object({
    to: fqName,
    uuid: uuid(),
    href: t.string({ maxLength: 2048 }),
    ...(attr ? { attr } : {}),
  });

function objectSchemaOf(definition: ResourceDefinition): Schema {
  const refs = Object.fromEntries(
    definition.refs.map((ref) => [`${fieldOf(ref.to)}_refs`, t.array(refItem(ref.attr), 65536)]),
  );
  return t.object(
    {
      ...commonProperties,
      fq_name: fqName,
      name: t.string({ minLength: 1, maxLength: 255, pattern: '^[^:]+$', description: 'last element of fq_name' }),
      parent_type: t.enum(definition.parents.length > 0 ? definition.parents : ['config-root']),
      parent_uuid: uuid(),
      href: t.string({ maxLength: 2048, description: 'ignored; set by the server' }),
      ...definition.properties,
      ...refs,
    },
    { description: definition.description },
  );
}

/** The one validator of the service: REST routes compile their schemas with it too. */
export const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });

function derive(): Map<string, ResourceType> {
  const types = new Map<string, ResourceType>();
  // Read as plain definitions here; ./types.ts reads the literal shapes for the TypeScript types.
  const definitions: readonly ResourceDefinition[] = resources;
  for (const definition of definitions) {
    const objectSchema = objectSchemaOf(definition);
    let validate: ValidateFunction | undefined;
    types.set(definition.type, {
      ...definition,
      plural: `${definition.type}s`,
      refFields: new Map(
        definition.refs.map((ref) => [`${fieldOf(ref.to)}_refs`, { ...ref, field: `${fieldOf(ref.to)}_refs` }]),
      ),
      childTypes: definitions.filter((other) => other.parents.includes(definition.type)).map((other) => other.type),
      backRefTypes: definitions
        .filter((other) => other.refs.some((ref) => ref.to === definition.type))
        .map((o) => o.type),
      bodyFields: new Set(Object.keys(objectSchema.properties as object)),
      objectSchema,
      // Compiled on first use (a second for every type at once): readers that never validate,
      // like control, do not pay for it.
      get validateObject() {
        validate ??= ajv.compile(objectSchema);
        return validate;
      },
    });
  }
  return types;
}

export const model = derive();

export const typeByPlural = new Map([...model.values()].map((type) => [type.plural, type]));

const bodySchemas = new Map<string, Schema>();

/** The body of POST /<type>s and PUT /<type>/<uuid>: {"<type>": {...}}; one object per type, so ajv compiles it once. */
export function bodySchemaOf(type: ResourceType): Schema {
  let schema = bodySchemas.get(type.type);
  if (!schema) {
    schema = {
      type: 'object',
      additionalProperties: false,
      required: [type.type],
      properties: { [type.type]: type.objectSchema },
    };
    bodySchemas.set(type.type, schema);
  }
  return schema;
}

/** Turns ajv's first error into a field path and a reason, e.g. "network_ipam_refs[0].attr" + "is not a known field". */
export function describeSchemaError(error: ErrorObject, prefix = ''): { field: string; reason: string } {
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const parts = error.instancePath.split('/').filter((part) => part !== '');
  if (params.missingProperty) parts.push(params.missingProperty);
  if (params.additionalProperty) parts.push(params.additionalProperty);
  const path = parts.reduce(
    (acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part),
    prefix,
  );
  const reason = params.additionalProperty
    ? 'is not a known field'
    : params.missingProperty
      ? 'is required'
      : (error.message ?? 'is invalid');
  return { field: path || prefix || 'body', reason };
}
