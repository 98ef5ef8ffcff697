import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { parseSnapshot, type Snapshot } from '../inventory/snapshot.ts';

/** Reads and validates a Snapshot file; every failure is a ConfigError naming the file and the problem. */
export function readSnapshotFile(path: string): Snapshot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read snapshot ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`snapshot ${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = parseSnapshot(value);
  if (!parsed.ok) throw new ConfigError(`snapshot ${path} is not a valid Snapshot: ${parsed.error}`);
  return parsed.snapshot;
}
