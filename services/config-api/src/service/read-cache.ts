// Reads by uuid, answered from their rendered JSON while nothing has changed. Every committed
// change moves the store's revision, and a rendered object (with its back-references and
// children) can only differ after one, so an entry is good exactly as long as the revision it
// was rendered at is the store's: no invalidation to get wrong, whatever the backend or writer.
import type { ReadView } from '../store/store.js';

/** Entries kept at most (about 30 MiB of interfaces); the oldest goes when a new one comes. */
const MAX_ENTRIES = 20_000;

export class ReadCache {
  readonly #view: ReadView;
  readonly #entries = new Map<string, string>();
  #revision = -1;

  constructor(view: ReadView) {
    this.#view = view;
  }

  #current(): Map<string, string> {
    const revision = this.#view.revision();
    if (revision !== this.#revision) {
      this.#entries.clear();
      this.#revision = revision;
    }
    return this.#entries;
  }

  /** The JSON rendered for `key` at the store's current revision, if any. */
  get(key: string): string | undefined {
    return this.#current().get(key);
  }

  set(key: string, json: string): void {
    const entries = this.#current();
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    entries.set(key, json);
  }
}
