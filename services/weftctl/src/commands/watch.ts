// weftctl watch TYPE [NAME]: the objects as they are, then every change as it commits, from
// config-api's gRPC Watch (the change log: nothing is missed between the listing and the first
// change). Runs until Ctrl-C, which is its normal end (exit 0).
import type { VncObject } from '../api/config-api.js';
import { ConfigWatch } from '../api/config-watch.js';
import { Interrupt } from '../interrupt.js';
import { resourceColumns } from '../output/columns.js';
import { type Column, renderTable } from '../output/table.js';
import { Progress } from '../output/terminal.js';
import type { Session } from '../session.js';
import { typeOf } from './resources.js';

interface Row {
  event: string;
  object: VncObject;
}

export async function watch(session: Session, typed: string, name: string | undefined): Promise<void> {
  const interrupt = new Interrupt();
  const type = await typeOf(session, typed);
  const configApi = String(session.resolved.settings['config-api'] ?? '');
  const client = new ConfigWatch(session.grpcAddress, {
    ...session.configApiCommon,
    secure: configApi.startsWith('https:'),
  });
  const wanted = (fqName: string[]) => !name || fqName.join(':') === name || fqName[fqName.length - 1] === name;
  const progress = new Progress(session.terminal.progress);
  const columns: Column<Row>[] = [
    { heading: 'EVENT', value: (row) => row.event },
    ...resourceColumns(type.name, session.output === 'wide').map((column) => ({
      heading: column.heading,
      value: (row: Row) => column.value(row.object),
    })),
  ];
  const structured = session.output === 'json' || session.output === 'yaml' || session.output === 'name';
  const emit = (event: string, object: VncObject, revision: number, header = false) => {
    progress.done();
    if (session.output === 'name') session.print(`${event} ${type.name}/${object.fq_name.join(':')}`);
    else if (structured) session.print(JSON.stringify({ event, revision, [type.name]: object }));
    else {
      const lines = renderTable(columns, [{ event, object }], session.terminal.colour).split('\n');
      session.print(header ? lines.slice(0, 2).join('\n') : lines[1]!);
    }
    progress.update(`watching ${type.name} at revision ${revision} (Ctrl-C stops)`);
  };
  try {
    if (interrupt.interrupted) return;
    const listing = await client.list(type.name);
    let first = true;
    for (const object of listing.objects.filter((item) => wanted(item.fq_name))) {
      emit('EXISTING', object, listing.revision, first);
      first = false;
    }
    if (first && !structured) session.print(columns.map((column) => column.heading).join('   '));
    progress.update(`watching ${type.name} from revision ${listing.revision + 1} (Ctrl-C stops)`);
    const stream = client.watch(type.name, listing.revision + 1, (change) => {
      if (wanted(change.object.fq_name)) emit(change.operation, change.object, change.revision);
    });
    interrupt.onInterrupt(() => stream.stop());
    await stream.done;
  } finally {
    interrupt.dispose();
    progress.done();
    client.close();
  }
}
