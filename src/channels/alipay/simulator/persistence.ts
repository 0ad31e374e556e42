import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Snapshot } from './state.ts';

/**
 * Optional JSON state file. Writes are debounced (a burst of trades costs one write) and atomic
 * (temp file + fsync + rename): a crash leaves the old or the new file, never half of one. The
 * file holds the simulator's private keys, so it is created with mode 0600.
 */

const DEBOUNCE_MS = 200;

export async function loadSnapshot(file: string): Promise<Snapshot | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // A corrupt or foreign file is an error: silently starting empty would lose the sandbox's books.
  const parsed = JSON.parse(text) as Snapshot;
  if (parsed.version !== 1 || parsed.kind !== 'alipay-simulator' || !parsed.keys) throw new Error(`${file}: not an Alipay simulator state file (version 1)`);
  return parsed;
}

export class SnapshotWriter {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  private seq = 0;

  constructor(
    private readonly file: string,
    private readonly take: () => Snapshot,
    private readonly onError: (err: unknown) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.write(JSON.stringify(this.take()));
      } catch (err) {
        this.dirty = true;
        this.onError(err);
      }
    });
    return this.writing;
  }

  private async write(text: string): Promise<void> {
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
