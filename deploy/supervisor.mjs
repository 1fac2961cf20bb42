// Keeps one daemon of the local stack running. It starts the daemon with its output appended to
// its log; when the daemon exits while the stack is not stopping, the reason (exit code or
// signal) goes to that log and to the console, and the daemon starts again after a backoff that
// doubles from RESTART_FIRST_MS up to RESTART_MAX_MS. A daemon that stayed up RESTART_RESET_MS
// starts again from the shortest backoff, so a crash a day never waits long, and a daemon that
// crashes at start does not spin.
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream } from 'node:fs';

const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;
const RESTART_RESET_MS = 60_000;

export class SupervisedDaemon {
  /** The running child process; replaced on each restart. */
  child;
  /** Settles when the current child has exited. */
  exited = Promise.resolve();
  restarts = 0;
  /** Set once the stack is up: before that an exit is a failed start, which stops the stack. */
  supervising = false;
  #backoffMs = RESTART_FIRST_MS;
  #startedAt = 0;
  #restartTimer;
  #stopped = false;

  /**
   * @param {object} spec
   * @param {string} spec.name
   * @param {string} spec.command
   * @param {string[]} spec.args
   * @param {NodeJS.ProcessEnv} spec.env
   * @param {string} spec.cwd
   * @param {string} spec.logPath
   * @param {(message: string) => void} spec.say  console lines of the stack
   * @param {() => Promise<void>} [spec.afterRestart]  waits until the restarted daemon is ready
   * @param {(reason: string) => void} spec.failedStart  an exit before the stack is up
   */
  constructor(spec) {
    this.spec = spec;
    this.name = spec.name;
    this.logPath = spec.logPath;
  }

  start() {
    const { command, args, env, cwd, logPath } = this.spec;
    const log = createWriteStream(logPath, { flags: 'a' });
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    this.#startedAt = Date.now();
    this.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        log.end();
        done();
        this.#onExit(code, signal);
      }),
    );
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  #onExit(code, signal) {
    if (this.#stopped) return;
    const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
    if (!this.supervising) {
      this.spec.failedStart(reason);
      return;
    }
    if (Date.now() - this.#startedAt >= RESTART_RESET_MS) this.#backoffMs = RESTART_FIRST_MS;
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, RESTART_MAX_MS);
    // The daemon's own log says why it stopped, next to its last lines.
    appendFileSync(
      this.logPath,
      `${JSON.stringify({ time: Date.now(), msg: `weft stack: ${this.name} ${reason}; restarting in ${delay} ms` })}\n`,
    );
    this.spec.say(`${this.name} ${reason}; restarting in ${delay / 1000} s (see ${this.logPath})`);
    this.#restartTimer = setTimeout(() => void this.#restart(), delay);
  }

  async #restart() {
    if (this.#stopped) return;
    this.restarts += 1;
    this.start();
    try {
      await this.spec.afterRestart?.();
      if (!this.#stopped && this.running) this.spec.say(`${this.name} restarted and ready (restart ${this.restarts})`);
    } catch (error) {
      // Its exit, if it exits, schedules the next attempt; a daemon that lives but is not ready
      // says so in its own readiness.
      if (!this.#stopped) this.spec.say(`${this.name} restarted but ${error instanceof Error ? error.message : error}`);
    }
  }

  /**
   * From now on an exit is neither announced nor followed by a restart. The stack calls it on
   * every daemon before it stops them one by one: Ctrl-C in a terminal sends SIGINT to the whole
   * process group, so daemons not stopped yet exit of their own accord meanwhile.
   */
  release() {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
  }

  /** Stops supervising and the daemon: SIGTERM, then SIGKILL after `deadlineMs`. */
  async stop(deadlineMs) {
    this.release();
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), deadlineMs);
    await this.exited;
    clearTimeout(timer);
  }
}
