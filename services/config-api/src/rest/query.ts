// The list options of GET /<type>s and POST /list-bulk-collection, parsed with clear errors.
import { invalid } from '../errors.js';
import type { ListParams, ReadOptions } from '../service/config-service.js';

const LIST_OPTIONS = new Set([
  'parent_id',
  'parent_fq_name_str',
  'parent_type',
  'back_ref_id',
  'obj_uuids',
  'fq_names',
  'fields',
  'detail',
  'count',
  'filters',
  'page_marker',
  'page_limit',
  'exclude_hrefs',
  'shared',
]);

export const MAX_PAGE_LIMIT = 100_000;

type Raw = Record<string, unknown>;

function text(raw: Raw, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(',');
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw invalid(name, 'must be a string');
  }
  return String(value);
}

function list(raw: Raw, name: string): string[] | undefined {
  const value = raw[name];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  const joined = text(raw, name);
  if (joined === undefined) return undefined;
  return joined
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function flag(raw: Raw, name: string): boolean | undefined {
  const value = raw[name];
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true' || value === 'True' || value === '1') return true;
  if (value === false || value === 'false' || value === 'False' || value === '0') return false;
  throw invalid(name, 'must be true or false');
}

const READ_OPTIONS = new Set(['fields', 'exclude_back_refs', 'exclude_children', 'exclude_hrefs']);

/** Parses the options of GET /<type>/<uuid>: fields, exclude_back_refs, exclude_children, exclude_hrefs. */
export function parseReadOptions(raw: Raw): ReadOptions {
  for (const name of Object.keys(raw)) {
    if (!READ_OPTIONS.has(name)) throw invalid(name, 'is not a read option');
  }
  const options: ReadOptions = {};
  const fields = list(raw, 'fields');
  if (fields) options.fields = fields;
  if (flag(raw, 'exclude_back_refs')) options.excludeBackRefs = true;
  if (flag(raw, 'exclude_children')) options.excludeChildren = true;
  if (flag(raw, 'exclude_hrefs')) options.excludeHrefs = true;
  return options;
}

/** Parses list options given as a query string or as the JSON body of list-bulk-collection. */
export function parseListParams(type: string, raw: Raw): ListParams {
  for (const name of Object.keys(raw)) {
    if (!LIST_OPTIONS.has(name)) throw invalid(name, 'is not a list option');
  }
  const params: ListParams = { type };
  const parentIds = list(raw, 'parent_id');
  if (parentIds) params.parentUuids = parentIds;
  const parentFq = text(raw, 'parent_fq_name_str');
  if (parentFq !== undefined) params.parentFqName = parentFq.split(':');
  const parentType = text(raw, 'parent_type');
  if (parentType !== undefined) params.parentType = parentType;
  const backRefs = list(raw, 'back_ref_id');
  if (backRefs) params.backRefUuids = backRefs;
  const uuids = list(raw, 'obj_uuids');
  if (uuids) params.uuids = uuids;
  const fqNames = list(raw, 'fq_names');
  if (fqNames) params.fqNames = fqNames.map((fqName) => fqName.split(':'));
  const fields = list(raw, 'fields');
  if (fields) params.fields = fields;
  const detail = flag(raw, 'detail');
  if (detail !== undefined) params.detail = detail;
  const count = flag(raw, 'count');
  if (count !== undefined) params.count = count;
  if (flag(raw, 'shared')) params.shared = true;
  if (flag(raw, 'exclude_hrefs')) params.excludeHrefs = true;
  const filters = list(raw, 'filters');
  if (filters) {
    params.filters = filters.map((filter) => {
      const at = filter.indexOf('==');
      if (at <= 0) throw invalid('filters', `${JSON.stringify(filter)} is not field==value`);
      return { field: filter.slice(0, at), value: filter.slice(at + 2) };
    });
  }
  const marker = text(raw, 'page_marker');
  if (marker !== undefined) params.pageMarker = marker;
  const limit = text(raw, 'page_limit');
  if (limit !== undefined) {
    const value = Number(limit);
    if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_LIMIT) {
      throw invalid('page_limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    }
    params.pageLimit = value;
  }
  return params;
}
