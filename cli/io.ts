import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

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
