// The store behind the config-api: objects, their references, reservations (addresses, MACs,
// VNIs…) and the change log, read synchronously and written in transactions. Two backends
// implement it, chosen by WEFT_STORE (./open.ts): SQLite, one file (./sqlite.ts), and etcd, one
// data set shared by several replicas (./etcd.ts). ./contract.test.ts defines the behaviour
// both must have, and runs on each.
//
// Reads and the body of a write are synchronous on purpose: a write checks integrity and
// allocates inside its transaction with no await in between, so two requests can never both
// take the same address. SQLite does that directly; etcd with a watch-fed view for reads and a
// transaction that commits only if nothing the body read has changed since (else it runs again).

export interface ObjectLink {
  type: string;
  uuid: string;
  fqName: string[];
}

export interface StoredObject extends ObjectLink {
  parentUuid: string | undefined;
  /** The object as stored (references included; href, back-references and children are derived on read). */
  body: Record<string, unknown>;
  /** Revision of the change that last wrote it. */
  revision: number;
}

export interface BackRef {
  from: ObjectLink;
  toUuid: string;
  attr: unknown;
}

export interface ChildLink extends ObjectLink {
  parentUuid: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** One committed change, as the change log keeps it. */
export interface ChangeRecord {
  revision: number;
  operation: Operation;
  type: string;
  uuid: string;
  fqName: string[];
  /** The object after the change; for a delete, as it was before. */
  objectJson: string;
  committedAtMs: number;
}

export interface ListQuery {
  type: string;
  parentUuids?: string[];
  uuids?: string[];
  /** Only objects with a reference to one of these. */
  backRefUuids?: string[];
  /** Top-level field equals value (string, number or boolean). */
  filters?: { field: string; value: string | number | boolean }[];
  /** Only uuids after this one (pages are in uuid order). */
  after?: string;
  limit?: number;
}

export interface ReadView {
  /** Revision of the last committed change. */
  revision(): number;
  get(uuid: string): StoredObject | undefined;
  getMany(uuids: string[]): StoredObject[];
  uuidOf(type: string, fqName: string[]): string | undefined;
  list(query: ListQuery): StoredObject[];
  count(query: ListQuery): number;
  children(parentUuids: string[], limit?: number): ChildLink[];
  backRefs(toUuids: string[], limit?: number): BackRef[];
  /** Who holds `value` in `scope` (e.g. scope "ip:<network uuid>", value "10.0.0.5"). */
  reservationOwner(scope: string, value: string): string | undefined;
  reservations(scope: string): { value: string; owner: string }[];
}

/**
 * A write makes at most one object change (create, update or delete), which gets its own
 * revision; reservations ride with it. etcd learns a revision only at commit: its tx returns a
 * placeholder, and write() hands back the committed revision in its place, both when the
 * write's result is that number and when it is an object whose `revision` is that number.
 */
export interface WriteTx extends ReadView {
  /**
   * How many times this write has run before (etcd runs a write again when another replica
   * changed what it read). Replicas that allocate from the same place collide again and again;
   * an allocator spreads its next choice with this.
   */
  readonly attempt?: number;
  /** Stores a new object and its references, logs the change; returns its revision. */
  create(object: Omit<StoredObject, 'revision'>): number;
  update(object: Omit<StoredObject, 'revision'>): number;
  delete(object: StoredObject): number;
  /** Takes `value` in `scope` for `owner`; false when someone holds it already. */
  reserve(scope: string, value: string, owner: string): boolean;
  release(scope: string, value: string): void;
  /** Frees everything `owner` holds (its address, MAC, VNI…); returns the scopes it held values in. */
  releaseOwnedBy(owner: string): string[];
}

export interface ConfigStore extends ReadView {
  /**
   * Runs `change` in one transaction: every object it writes commits together with its change-log
   * rows, each change taking the next revision, or nothing is written when it throws. Resolves
   * once the transaction is durable.
   */
  write<T>(change: (tx: WriteTx) => T): Promise<T>;
  /** Changes from `fromRevision` on, oldest first, at most `limit`. */
  changesSince(fromRevision: number, limit: number): ChangeRecord[];
  /** The highest revision that trimming removed from the log (0 when nothing was trimmed). */
  trimmedThrough(): number;
  /** Called after each commit with its changes, in revision order (every replica's, on etcd). */
  onCommit(listener: (changes: ChangeRecord[]) => void): () => void;
  /** Like onCommit, for the changes written through this store only (what this replica publishes). */
  onOwnCommit(listener: (changes: ChangeRecord[]) => void): () => void;
  /**
   * Read barrier: resolves once this view holds every change committed anywhere before the call,
   * so that a write answered by another replica is read here too. Fails with STORE_UNAVAILABLE
   * when the store cannot tell in time. SQLite, the only writer of its file: at once.
   */
  sync(): Promise<void>;
  /** Why the store cannot serve now (for /readyz), or undefined. */
  health(): string | undefined;
  countsByType(): Map<string, number>;
  /** Every reservation of every scope (for export). */
  allReservations(): { scope: string; value: string; owner: string }[];
  close(): Promise<void>;
}

export class OneChangePerWrite extends Error {
  override readonly name = 'OneChangePerWrite';
  constructor() {
    super('a write may make one object change (create, update or delete), which gets its own revision');
  }
}
