// What the rest of the service knows about the resource model, derived once from ./resources.ts:
// field names, parent and child types, references and back-references, and the JSON Schemas of
// request bodies (one compiled validator per type, shared by REST and gRPC).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { fqName, uuid } from './common.js';
import {
  commonMapProperties,
  commonProperties,
  commonRefs,
  type RefDefinition,
  type ResourceDefinition,
  resources,
} from './resources.js';
import { type Schema, t } from './schema.js';

/** "virtual-network" → "virtual_network": how a type is spelled inside field names. */
export function fieldOf(type: string): string {
  return type.replace(/-/g, '_');
}

export interface RefField extends RefDefinition {
  /** "network_ipam_refs" */
  field: string;
}

/** A ListProperty or MapProperty: a wrapper object around one list of elements. */
export interface CollectionField {
  kind: 'list' | 'map';
  /** The list inside the wrapper: "key_value_pair" of annotations. */
  wrapper: string;
  /** For a map, the element field that keys it. */
  key?: string;
  /** Validates one element. */
  validateElement: ValidateFunction;
}

export interface ResourceType extends ResourceDefinition {
  /** "virtual-networks": the REST collection and the list response key. */
  plural: string;
  /** Its own references and those every type has (tag_refs). */
  refFields: Map<string, RefField>;
  /** Parent types, without config-root. */
  parentTypes: string[];
  /** May sit at the top (under TF's config-root). */
  mayBeTopLevel: boolean;
  /** Types that may have this type as parent. */
  childTypes: string[];
  /** Types with references to this type. */
  backRefTypes: string[];
  /** Every field a body may carry (for the `filters` and `fields` list options). */
  bodyFields: Set<string>;
  /**
   * Fields a read adds and a write ignores: href, parent_href, <type>_back_refs and children
   * (<child type>s). Tungsten Fabric's clients send a read object back with them.
   */
  derivedFields: Set<string>;
  /** The ListProperty and MapProperty fields, by name. */
  collectionFields: Map<string, CollectionField>;
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

/** A definition's references together with those every type has. */
function refsOf(definition: ResourceDefinition): RefDefinition[] {
  const own = definition.refs.map((ref) => ref.to);
  return [...definition.refs, ...commonRefs.filter((ref) => !own.includes(ref.to))];
}

function objectSchemaOf(definition: ResourceDefinition): Schema {
  const refs = Object.fromEntries(
    refsOf(definition).map((ref) => [`${fieldOf(ref.to)}_refs`, t.array(refItem(ref.attr), 65536)]),
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

/** The list inside a collection property's wrapper object, and its element schema. */
function collectionOf(objectSchema: Schema, field: string, kind: 'list' | 'map', key?: string): CollectionField {
  const wrapper = (objectSchema.properties as Record<string, Schema>)[field];
  const lists = Object.entries((wrapper?.properties ?? {}) as Record<string, Schema>).filter(
    ([, schema]) => schema.type === 'array',
  );
  if (lists.length !== 1) throw new Error(`${field}: a collection property wraps exactly one list`);
  const [name, list] = lists[0]!;
  return { kind, wrapper: name, ...(key ? { key } : {}), validateElement: ajv.compile(list.items as Schema) };
}

function derive(): Map<string, ResourceType> {
  const types = new Map<string, ResourceType>();
  // Read as plain definitions here; ./types.ts reads the literal shapes for the TypeScript types.
  const definitions: readonly ResourceDefinition[] = resources;
  for (const definition of definitions) {
    const objectSchema = objectSchemaOf(definition);
    const childTypes = definitions.filter((other) => other.parents.includes(definition.type)).map((o) => o.type);
    const backRefTypes = definitions
      .filter((other) => refsOf(other).some((ref) => ref.to === definition.type))
      .map((other) => other.type);
    const collectionFields = new Map<string, CollectionField>();
    for (const field of definition.listProperties ?? []) {
      collectionFields.set(field, collectionOf(objectSchema, field, 'list'));
    }
    for (const [field, key] of Object.entries({ ...commonMapProperties, ...definition.mapProperties })) {
      collectionFields.set(field, collectionOf(objectSchema, field, 'map', key));
    }
    let validate: ValidateFunction | undefined;
    types.set(definition.type, {
      ...definition,
      plural: `${definition.type}s`,
      refFields: new Map(
        refsOf(definition).map((ref) => [`${fieldOf(ref.to)}_refs`, { ...ref, field: `${fieldOf(ref.to)}_refs` }]),
      ),
      parentTypes: definition.parents.filter((parent) => parent !== 'config-root'),
      mayBeTopLevel: definition.parents.length === 0 || definition.parents.includes('config-root'),
      childTypes,
      backRefTypes,
      bodyFields: new Set(Object.keys(objectSchema.properties as object)),
      derivedFields: new Set([
        'href',
        'parent_href',
        ...backRefTypes.map((other) => `${fieldOf(other)}_back_refs`),
        ...childTypes.map((child) => `${fieldOf(child)}s`),
      ]),
      collectionFields,
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
/** The validator of each body schema: the envelope checked here, the object by its type's validator. */
const bodyValidators = new WeakMap<Schema, ValidateFunction>();

/** {"<type>": object}: the envelope, then the object by the validator its type already has. */
function envelopeValidator(type: ResourceType): ValidateFunction {
  const fail = (error: Partial<ErrorObject>) => {
    validate.errors = [{ instancePath: '', schemaPath: '#', keyword: 'envelope', params: {}, ...error } as ErrorObject];
    return false;
  };
  const validate = ((data: unknown) => {
    validate.errors = null;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      return fail({ keyword: 'type', params: { type: 'object' }, message: 'must be object' });
    }
    for (const key of Object.keys(data)) {
      if (key !== type.type) {
        return fail({
          keyword: 'additionalProperties',
          params: { additionalProperty: key },
          message: 'must NOT have additional properties',
        });
      }
    }
    if (!(type.type in data)) {
      return fail({
        keyword: 'required',
        params: { missingProperty: type.type },
        message: `must have required property '${type.type}'`,
      });
    }
    if (type.validateObject((data as Record<string, unknown>)[type.type])) return true;
    validate.errors = type.validateObject.errors!.map((error) => ({
      ...error,
      instancePath: `/${type.type}${error.instancePath}`,
    }));
    return false;
  }) as ValidateFunction;
  return validate;
}

/** The body of POST /<type>s and PUT /<type>/<uuid>: {"<type>": {...}}; one object per type. */
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
    bodyValidators.set(schema, envelopeValidator(type));
  }
  return schema;
}

/**
 * The validator of a route schema. A body schema reuses its type's validator rather than
 * compiling the type's schema a second time: compiling them is most of the service's start.
 */
export function validatorOf(schema: Schema): ValidateFunction {
  return bodyValidators.get(schema) ?? ajv.compile(schema);
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
