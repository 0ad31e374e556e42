import { SnapshotWriter as Writer, readSnapshotFile } from '../../sandbox/snapshot-file.ts';
import type { Snapshot } from './state.ts';

export function loadSnapshot(file: string): Promise<Snapshot | null> {
  return readSnapshotFile<Snapshot>(file, (s) => s.version === 1 && s.kind === 'unionpay-simulator' && !!s.keys, 'a UnionPay simulator state file (version 1)');
}

export class SnapshotWriter extends Writer<Snapshot> {}
