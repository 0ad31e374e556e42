import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Sandbox simulators' optional JSON state file, shared by every channel simulator. Writes are
 * debounced (a burst of orders costs one write) and atomic (temp file + fsync + rename), so a
 * crash leaves either the old or the new file, never half of one. The file holds the simulator's
 * own private keys, so it is created with mode 0600. The whole state is rewritten each time, so
 * the pause between writes grows with the cost of the last one (10×): with a large ledger,
 * persistence stays under ~10 % of the simulator's time.
 */

const DEBOUNCE_MS = 200;
const COST_FACTOR = 10;

/** Reads a state file; null when there is none. A corrupt or foreign file is an error, never an empty sandbox. */
export async function readSnapshotFile<T>(file: string, isValid: (parsed: T) => boolean, what: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JSON.parse(text) as T;
  if (!isValid(parsed)) throw new Error(`${file}: not ${what}`);
  return parsed;
}

export class SnapshotWriter<T> {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private seq = 0;
  private lastCostMs = 0;

  constructor(
    private readonly file: string,
    private readonly take: () => T,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, Math.max(DEBOUNCE_MS, this.lastCostMs * COST_FACTOR));
    this.timer.unref();
  }

  /** Writes now if anything changed; serialised so two writes never race on the temp file. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const started = Date.now();
      try {
        await this.writeAtomically(JSON.stringify(this.take()));
        this.lastCostMs = Date.now() - started;
      } catch (err) {
        this.dirty = true;
        this.onError(err);
      }
    });
    return this.writing;
  }

  private async writeAtomically(text: string): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${++this.seq}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }
}
