// What goes to the terminal and what goes to a pipe: colour and progress only on a terminal,
// never in a pipe or a file (NO_COLOR turns colour off everywhere), so scripts read plain text.

export interface Terminal {
  colour: boolean;
  /** Progress lines on stderr, replaced in place. */
  progress: boolean;
}

export function terminal(env: NodeJS.ProcessEnv = process.env): Terminal {
  const colour = Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined;
  return { colour, progress: Boolean(process.stderr.isTTY) };
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;

export function paint(on: boolean, style: keyof typeof CODES, text: string): string {
  return on ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text;
}

/** A line of progress that the next one replaces, and that done() clears. */
export class Progress {
  #shown = false;
  constructor(private readonly on: boolean) {}

  update(text: string): void {
    if (!this.on) return;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }

  done(): void {
    if (this.#shown) process.stderr.write('\r\x1b[2K');
    this.#shown = false;
  }
}
