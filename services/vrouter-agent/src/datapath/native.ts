// The libbpf addon (native/weft_bpf.c), typed. It is built by `build:native` only where clang
// and libbpf-dev exist; everything that needs it asks `datapathMissing()` first, so a machine
// without the toolchain gets a reason instead of a crash.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errors } from '../errors.js';
import { addonPath, objects } from './paths.js';

export interface NativeProgram {
  name: string;
  fd: number;
}

export interface NativeMap {
  name: string;
  fd: number;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  pinPath: string;
}

export interface NativeObject {
  handle: unknown;
  programs: NativeProgram[];
  maps: NativeMap[];
}

export interface NativeTestRun {
  retval: number;
  data: Buffer;
  duration: number;
}

/** native/weft_bpf.c: each call is one libbpf call (or one batch of them) and throws with errno. */
export interface NativeBpf {
  openObject(path: string, pinRoot: string): NativeObject;
  closeObject(handle: unknown): void;
  mapUpdate(fd: number, keys: Buffer, values: Buffer, count: number, flags: number): number;
  mapDelete(fd: number, keys: Buffer, count: number): number;
  mapLookup(fd: number, key: Buffer, valueSize: number): Buffer | null;
  mapDump(fd: number, keySize: number, valueSize: number): { keys: Buffer; values: Buffer; count: number };
  testRun(fd: number, data: Buffer, repeat: number, ctxIn: Buffer | null, dataOutSize: number): NativeTestRun;
  /** BPF_PROG_TEST_RUN in live-frames mode: `count` copies of `frame` through the program, for real. */
  sendFrames(fd: number, frame: Buffer, count: number, ifindex: number): void;
  possibleCpus(): number;
  objGet(path: string): number;
  objPin(fd: number, path: string): void;
  closeFd(fd: number): void;
  programInfo(fd: number): { id: number; name: string; type: number };
  programInfoById(id: number): { id: number; name: string; type: number; mapIds: number[] } | null;
  mapId(fd: number): number;
  tcAttach(ifindex: number, programFd: number): void;
  tcDetach(ifindex: number): void;
  tcQuery(ifindex: number): number;
  openRing(mapFd: number): unknown;
  consumeRing(handle: unknown, limit: number): Buffer[];
}

let native: NativeBpf | undefined;

/** Why the BPF datapath cannot run in this process, or undefined when it can. */
export function datapathMissing(): string | undefined {
  if (process.platform !== 'linux') return 'the BPF datapath needs Linux';
  if (process.getuid?.() !== 0) return 'loading BPF programs needs root (CAP_BPF and CAP_NET_ADMIN)';
  if (!existsSync(addonPath)) {
    return `the libbpf addon is not built (${addonPath}): install clang-16 llvm-16 libbpf-dev and run the build`;
  }
  for (const path of Object.values(objects)) {
    if (!existsSync(path)) return `the BPF object ${path} is not built: install clang-16 and run the build`;
  }
  return undefined;
}

export function loadNative(): NativeBpf {
  if (native) return native;
  const missing = datapathMissing();
  if (missing) throw errors.DATAPATH_UNAVAILABLE({ reason: missing });
  native = createRequire(import.meta.url)(addonPath) as NativeBpf;
  return native;
}
