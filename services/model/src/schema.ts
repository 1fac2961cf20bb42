// A small typed JSON Schema builder: each helper returns a plain JSON Schema object that also
// carries its TypeScript type (a phantom), so the resource model is written once and both the
// validator and the compiler know it (the idea of TypeBox, in the few forms the model needs).
export interface Schema<T = unknown> {
  readonly __type?: T;
  [keyword: string]: unknown;
}

export type Static<S> = S extends Schema<infer T> ? T : never;

type Props = Record<string, Schema>;
type ObjectOf<P extends Props> = { [K in keyof P]?: Static<P[K]> };

export const t = {
  string(extra: { minLength?: number; maxLength?: number; pattern?: string; description?: string } = {}) {
    return { type: 'string', maxLength: 1024, ...extra } as Schema<string>;
  },
  integer(minimum: number, maximum: number, description?: string) {
    return { type: 'integer', minimum, maximum, ...(description ? { description } : {}) } as Schema<number>;
  },
  boolean(description?: string) {
    return { type: 'boolean', ...(description ? { description } : {}) } as Schema<boolean>;
  },
  enum<const V extends string>(values: readonly V[], description?: string) {
    return { type: 'string', enum: [...values], ...(description ? { description } : {}) } as Schema<V>;
  },
  array<S extends Schema>(items: S, maxItems = 4096) {
    return { type: 'array', items, maxItems } as Schema<Static<S>[]>;
  },
  /** An object whose properties are all optional unless named in `required`; no other property allowed. */
  object<P extends Props>(
    properties: P,
    { required = [], description }: { required?: string[]; description?: string } = {},
  ) {
    return {
      type: 'object',
      additionalProperties: false,
      properties,
      ...(required.length > 0 ? { required } : {}),
      ...(description ? { description } : {}),
    } as Schema<ObjectOf<P>>;
  },
};
