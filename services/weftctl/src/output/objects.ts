// Objects of config-api in the format asked for: a table (NAME and what matters of the type),
// wide (with uuid and references), json or yaml (the API's own shape, which apply reads back),
// or name (type/fq_name, one a line, for scripts).
import { stringify } from 'yaml';
import type { ResourceType, VncObject } from '../api/config-api.js';
import type { OutputFormat } from '../session.js';
import { resourceColumns } from './columns.js';
import { renderTable } from './table.js';

export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

/** `single`: one object asked for by name (printed alone), else a list (possibly of one). */
export function formatObjects(
  type: ResourceType,
  objects: readonly VncObject[],
  format: OutputFormat,
  { single = false, colour = false } = {},
): string {
  const enveloped = objects.map((object) => ({ [type.name]: object }));
  switch (format) {
    case 'json':
      return `${JSON.stringify(single ? enveloped[0] : enveloped, null, 2)}\n`;
    case 'yaml':
      return enveloped.map((item) => toYaml(item)).join('---\n');
    case 'name':
      return objects.map((object) => `${type.name}/${object.fq_name.join(':')}\n`).join('');
    default:
      return renderTable(resourceColumns(type.name, format === 'wide'), objects, colour);
  }
}
