import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ConfigError } from '../shared/errors.ts';
import { parseSnapshot, type Snapshot } from '../shared/inventory/snapshot.ts';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream;
}

export const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdin: process.stdin,
};

/** Lines of a file, or of standard input for `-` or no file; numbered from 1. */
export async function* readLines(
  file: string | undefined,
  io: Io,
): AsyncGenerator<{ number: number; text: string }> {
  const input = file === undefined || file === '-' ? io.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const text of lines) {
    number += 1;
    yield { number, text };
  }
}

export async function loadSnapshotFile(path: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
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
