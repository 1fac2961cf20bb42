// TypeScript types of the stored objects, derived from the resource model (./resources.ts):
// `ConfigObjectOf<'virtual-network'>` has every field a virtual network may carry, typed as its
// JSON Schema says. Nothing here is written by hand twice.
import type { commonProperties, resources } from './resources.js';
import type { Static } from './schema.js';

type Definition = (typeof resources)[number];

/** Every resource type name: 'virtual-network' | 'instance-ip' | … */
export type ResourceTypeName = Definition['type'];

type DefinitionOf<T extends ResourceTypeName> = Extract<Definition, { type: T }>;

type Snake<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}_${Snake<Tail>}` : S;

/** One item of a `<type>_refs` list. */
export interface Reference<Attr = never> {
  to: string[];
  uuid: string;
  href?: string;
  attr?: Attr;
}

type RefsOf<T extends ResourceTypeName> = {
  [R in DefinitionOf<T>['refs'][number] as `${Snake<R['to']>}_refs`]?: Reference<
    R extends { attr: infer A } ? Static<A> : never
  >[];
};

type PropertiesOf<T extends ResourceTypeName> = {
  [K in keyof DefinitionOf<T>['properties']]?: Static<DefinitionOf<T>['properties'][K]>;
};

type Common = { [K in keyof typeof commonProperties]?: Static<(typeof commonProperties)[K]> } & {
  /** Every type may refer to the tags attached to it. */
  tag_refs?: Reference[];
};

/** A stored object of type T as the REST API returns it (without back-references and children). */
export type ConfigObjectOf<T extends ResourceTypeName> = Common & {
  uuid: string;
  fq_name: string[];
  name: string;
  parent_type?: string;
  parent_uuid?: string;
  href?: string;
} & PropertiesOf<T> &
  RefsOf<T>;

export type VirtualNetwork = ConfigObjectOf<'virtual-network'>;
export type VirtualMachineInterface = ConfigObjectOf<'virtual-machine-interface'>;
export type InstanceIp = ConfigObjectOf<'instance-ip'>;
export type NetworkPolicy = ConfigObjectOf<'network-policy'>;
export type SecurityGroup = ConfigObjectOf<'security-group'>;
export type VirtualRouter = ConfigObjectOf<'virtual-router'>;
