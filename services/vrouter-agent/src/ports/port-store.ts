// The host's attached ports, persisted one file each under <state>/ports, so that a restarted
// agent re-attaches every port it had. A record is written to a temporary file, synced and
// renamed into place: a crash leaves either the old record or the new one, never half of one.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface PortRecord {
  container_id: string;
  /** Name inside the pod. */
  ifname: string;
  interface_uuid: string;
  host_ifname: string;
  netns: string;
  /**
   * The interface's MAC and addresses when it was attached. A restarted agent reports its ports
   * to control from these before any config has arrived: control withdraws the routes of ports
   * a returning agent does not report.
   */
  mac: string;
  addresses: string[];
}

export class PortStore {
  readonly #dir: string;
  readonly #records = new Map<string, PortRecord>();
  /** Why the last write of a record failed (a full disk), until one succeeds; undefined when fine. */
  writeError: string | undefined;

  constructor(stateDir: string) {
    this.#dir = join(stateDir, 'ports');
    mkdirSync(this.#dir, { recursive: true });
    for (const file of readdirSync(this.#dir)) {
      if (!file.endsWith('.json')) continue;
      const record = JSON.parse(readFileSync(join(this.#dir, file), 'utf8')) as PortRecord;
      this.#records.set(PortStore.key(record.container_id, record.ifname), record);
    }
  }

  static key(containerId: string, ifname: string): string {
    return `${containerId}/${ifname}`;
  }

  #file(record: Pick<PortRecord, 'container_id' | 'ifname'>): string {
    // Container ids are hex or uuids, interface names are kernel names: neither has a slash.
    return join(this.#dir, `${record.container_id}_${record.ifname}.json`.replace(/[^\w.-]/g, '_'));
  }

  all(): PortRecord[] {
    return [...this.#records.values()];
  }

  get(containerId: string, ifname: string): PortRecord | undefined {
    return this.#records.get(PortStore.key(containerId, ifname));
  }

  ofContainer(containerId: string): PortRecord[] {
    return this.all().filter((record) => record.container_id === containerId);
  }

  save(record: PortRecord): void {
    const path = this.#file(record);
    const temporary = `${path}.tmp`;
    try {
      const fd = openSync(temporary, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(record));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, path);
    } catch (error) {
      // Half a record left behind would take room and be read back as damaged.
      rmSync(temporary, { force: true });
      this.writeError = `cannot write ${path}: ${(error as Error).message}`;
      throw error;
    }
    this.writeError = undefined;
    this.#records.set(PortStore.key(record.container_id, record.ifname), record);
  }

  remove(record: PortRecord): void {
    rmSync(this.#file(record), { force: true });
    this.#records.delete(PortStore.key(record.container_id, record.ifname));
  }
}
