// labelSelector and fieldSelector of list and watch requests, in the API's string syntax:
// labels `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`; fields `path=value`,
// `path==value`, `path!=value` on the few paths the stand-in knows.
import { KubeStatusError } from './status.js';

type Match = (object: KubeObject) => boolean;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Splits on commas that are not inside parentheses. */
function requirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function labelRequirement(text: string): Match {
  const labels = (object: KubeObject) => object.metadata.labels ?? {};
  const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text);
  if (set) {
    const [, key, operator, list] = set as unknown as [string, string, string, string];
    const values = new Set(list.split(',').map((value) => value.trim()));
    return operator === 'in'
      ? (object) => values.has(labels(object)[key] ?? '\0')
      : (object) => !values.has(labels(object)[key] ?? '\0');
  }
  const equality = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(text);
  if (equality) {
    const [, key, operator, value] = equality as unknown as [string, string, string, string];
    return operator === '!=' ? (object) => labels(object)[key] !== value : (object) => labels(object)[key] === value;
  }
  const exists = /^(!?)([\w./-]+)$/.exec(text);
  if (exists) {
    const [, not, key] = exists as unknown as [string, string, string];
    return not ? (object) => !(key in labels(object)) : (object) => key in labels(object);
  }
  throw new KubeStatusError('BadRequest', `unable to parse requirement: "${text}" in labelSelector`);
}

const FIELD_PATHS: Record<string, (object: KubeObject) => string> = {
  'metadata.name': (object) => object.metadata.name,
  'metadata.namespace': (object) => object.metadata.namespace ?? '',
  'spec.nodeName': (object) => String((object.spec as { nodeName?: string } | undefined)?.nodeName ?? ''),
};

function fieldRequirement(text: string): Match {
  const parsed = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(text);
  if (!parsed) throw new KubeStatusError('BadRequest', `invalid selector: "${text}" in fieldSelector`);
  const [, path, operator, value] = parsed as unknown as [string, string, string, string];
  const read = FIELD_PATHS[path];
  if (!read) throw new KubeStatusError('BadRequest', `field label not supported: ${path}`);
  return operator === '!=' ? (object) => read(object) !== value : (object) => read(object) === value;
}

/** A predicate for both selectors of a request (either may be absent). */
export function selectorMatch(labelSelector?: string, fieldSelector?: string): Match {
  const matches = [
    ...requirements(labelSelector ?? '').map(labelRequirement),
    ...requirements(fieldSelector ?? '').map(fieldRequirement),
  ];
  return (object) => matches.every((match) => match(object));
}
