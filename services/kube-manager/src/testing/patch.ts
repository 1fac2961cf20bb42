// PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch (taken as a merge patch: the
// stand-in knows no patch strategies, so a list in it replaces the whole list), and JSON patch
// (RFC 6902: add, remove, replace, test).
import { KubeStatusError } from './status.js';

export const PATCH_TYPES = [
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new KubeStatusError('BadRequest', `json patch path "${path}" must start with /`);
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new KubeStatusError('BadRequest', 'a json patch must be a list of operations');
  const document = structuredClone(target) as Record<string, unknown>;
  for (const operation of operations as Operation[]) {
    const parts = pointer(operation.path);
    const last = parts.pop();
    if (last === undefined)
      throw new KubeStatusError('BadRequest', 'json patch of the whole document is not supported');
    let parent: unknown = document;
    for (const part of parts) {
      parent = (parent as Record<string, unknown>)?.[part];
      if (typeof parent !== 'object' || parent === null) {
        throw new KubeStatusError('Invalid', `json patch ${operation.op} ${operation.path}: the parent does not exist`);
      }
    }
    const container = parent as Record<string, unknown>;
    const list = Array.isArray(parent) ? (parent as unknown[]) : undefined;
    const index = list ? (last === '-' ? list.length : Number(last)) : -1;
    switch (operation.op) {
      case 'add':
        if (list) list.splice(index, 0, structuredClone(operation.value));
        else container[last] = structuredClone(operation.value);
        break;
      case 'replace':
      case 'remove':
        if (!(last in container)) {
          throw new KubeStatusError('Invalid', `json patch ${operation.op} ${operation.path}: nothing there`);
        }
        if (operation.op === 'remove') {
          if (list) list.splice(index, 1);
          else delete container[last];
        } else container[last] = structuredClone(operation.value);
        break;
      case 'test':
        if (JSON.stringify(container[last]) !== JSON.stringify(operation.value)) {
          throw new KubeStatusError('Invalid', `json patch test ${operation.path} failed`);
        }
        break;
      default:
        throw new KubeStatusError('BadRequest', `json patch operation "${operation.op}" is not supported`);
    }
  }
  return document;
}
