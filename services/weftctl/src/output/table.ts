// Plain text tables as kubectl prints them: upper-case headings, columns padded with three
// spaces, no borders, so that awk and cut read them. A cell may be painted (on a terminal) after
// it is padded, so colour never shifts a column.
import { paint } from './terminal.js';

export interface Column<Row> {
  heading: string;
  value(row: Row): string;
  /** The colour of a cell, on a terminal. */
  colour?(row: Row): 'red' | 'green' | 'yellow' | undefined;
}

export function renderTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[], colour = false): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row) || '-'));
  const widths = columns.map((column, index) =>
    Math.max(column.heading.length, ...cells.map((line) => line[index]!.length)),
  );
  const pad = (text: string, index: number) => (index === columns.length - 1 ? text : text.padEnd(widths[index]!));
  const lines = [
    columns
      .map((column, index) => pad(column.heading, index))
      .join('   ')
      .trimEnd(),
  ];
  for (const [rowIndex, line] of cells.entries()) {
    lines.push(
      line
        .map((text, index) => {
          const style = columns[index]!.colour?.(rows[rowIndex]!);
          return style ? paint(colour, style, pad(text, index)) : pad(text, index);
        })
        .join('   ')
        .trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** How long ago, as kubectl says it: 45s, 12m, 3h, 5d. */
export function age(since: string | number | undefined, now = Date.now()): string {
  if (since === undefined) return '';
  const ms = now - (typeof since === 'number' ? since : Date.parse(since));
  if (!Number.isFinite(ms)) return '';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
