// What one caller may read of analytics. A cloud-admin or a global reader reads everything; a
// tenant (a member or reader of projects, in rbac mode) reads only what is about his projects'
// objects, and the rest does not exist for him: 404 for one UVE, absent from lists, streams and
// query answers, as config-api answers another tenant's object.
//
// Which project owns what is read from the names the records already carry, not learnt from
// config: a flow record names its virtual networks by fq_name ("default-domain:blue:web"), the
// UVEs of kit's PROJECT_UVE_TYPES are named by fq_name, and a project is its domain and name, the
// first two parts. That is the owner by parentage, which config-api uses unless a cloud-admin
// gave an object another owner (perms2.owner) or shared it: those are not followed here.
import { type Identity, PROJECT_UVE_TYPES, readsAll } from '@weft/kit';
import type { Alarm } from '../alarms/rules.js';
import { errors } from '../errors.js';
import type { Condition, QueryPlan } from '../query/validate.js';
import { FLOW_TABLE, UVE_STAT_TABLE } from '../store/tables.js';

const prefix = (name: string, value: string): Condition => ({ name, op: 'PREFIX', value, datatype: 'string' });
const equal = (name: string, value: string): Condition => ({ name, op: 'EQUAL', value, datatype: 'string' });

export class TenantScope {
  /** "domain:project:" of every project the caller reads (member or reader). */
  readonly #prefixes: string[];

  private constructor(readonly identity: Identity) {
    this.#prefixes = [...identity.projects.keys()].map((project) => `${project}:`);
  }

  /** The caller's scope; undefined when he reads everything (also without authentication). */
  static of(identity: Identity | undefined): TenantScope | undefined {
    return identity === undefined || readsAll(identity) ? undefined : new TenantScope(identity);
  }

  /** An fq_name string under one of the caller's projects. */
  ownsName(fqName: string): boolean {
    return this.#prefixes.some((start) => fqName.startsWith(start));
  }

  seesUve(type: string, name: string): boolean {
    return PROJECT_UVE_TYPES.includes(type) && this.ownsName(name);
  }

  /** An alarm about one of the caller's entities. */
  seesAlarm(alarm: Pick<Alarm, 'type' | 'name'>): boolean {
    return this.seesUve(alarm.type, alarm.name);
  }

  /**
   * The plan narrowed to the caller's rows: flows with either end in one of his networks, UVE
   * samples of his entities. The log table (service logs, config-api's audit) is the system's.
   */
  restrict(plan: QueryPlan): QueryPlan {
    if (plan.table.name === FLOW_TABLE.name) {
      const scope = this.#prefixes.flatMap((start) => [
        [prefix('source_virtual_network', start)],
        [prefix('destination_virtual_network', start)],
      ]);
      return { ...plan, scope };
    }
    if (plan.table.name === UVE_STAT_TABLE.name) {
      const scope = this.#prefixes.flatMap((start) =>
        PROJECT_UVE_TYPES.map((type) => [equal('type', type), prefix('name', start)]),
      );
      return { ...plan, scope };
    }
    throw errors.FORBIDDEN({
      user: this.identity.user,
      action: `query ${plan.table.name} (the services' own records: cloud-admin or reader only)`,
    });
  }
}
