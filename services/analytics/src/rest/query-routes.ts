// POST /analytics/query (a tenant's narrowed to his rows) and the table catalog: /analytics/tables,
// /analytics/table/<name>/schema.
import type { Histogram } from '@weft/kit';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import type { QueryPool } from '../query/query-runner.js';
import { validateQuery } from '../query/validate.js';
import { TABLES, tableNamed } from '../store/tables.js';
import { TenantScope } from './tenancy.js';

export function registerQueryRoutes(app: FastifyInstance, runner: QueryPool, latency: Histogram<'table'>): void {
  app.get('/analytics/tables', async () =>
    TABLES.map((table) => ({
      name: table.name,
      display_name: table.description,
      href: `/analytics/table/${encodeURIComponent(table.name)}`,
      schema: `/analytics/table/${encodeURIComponent(table.name)}/schema`,
    })),
  );

  app.get<{ Params: { name: string } }>('/analytics/table/:name/schema', async (request) => {
    const table = tableNamed(request.params.name);
    if (!table) throw errors.NO_SUCH_TABLE({ table: request.params.name });
    return {
      type: table.kind,
      description: table.description,
      columns: table.columns.map((c) => ({
        name: c.name,
        datatype: c.datatype,
        index: c.index ?? false,
        description: c.description,
      })),
      aggregates: ['SUM', 'COUNT', 'MIN', 'MAX', 'AVG'],
    };
  });

  app.post('/analytics/query', async (request) => {
    const valid = validateQuery(request.body);
    const plan = TenantScope.of(request.identity)?.restrict(valid) ?? valid;
    const end = latency.startTimer({ table: plan.table.name });
    try {
      return { value: await runner.run(plan) };
    } finally {
      end();
    }
  });
}
