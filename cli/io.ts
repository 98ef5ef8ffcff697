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

/** Bad usage or input the command cannot take: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** One delivery of the input, with where it stands (`line 3`, or `item 2` of a JSON array). */
export interface InputItem {
  where: string;
  /** The line number, or the item's number in a JSON array (1 for a single document). */
  index: number;
  text: string;
}

/**
 * The deliveries of a file, or of standard input for `-` or no file: NDJSON, one a line, streamed.
 * A file that is one pretty-printed JSON document (a single entry, or an array of them) is read
 * whole, so a saved log entry can be given as it is.
 */
export async function* readDeliveries(file: string | undefined, io: Io): AsyncGenerator<InputItem> {
  const input = file === undefined || file === '-' ? io.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  let document: string[] | undefined;
  for await (const text of lines) {
    number += 1;
    if (document) document.push(text);
    else if (number === 1 && startsDocument(text)) document = [text];
    else yield { where: `line ${number}`, index: number, text };
  }
  if (document === undefined) return;
  let value: unknown;
  try {
    value = JSON.parse(document.join('\n'));
  } catch {
    // NDJSON whose first line is broken (other lines stand alone): go on line by line. Otherwise it
    // is one broken document, reported once.
    if (document.slice(1).some(isJsonObject)) {
      for (const [index, text] of document.entries())
        yield { where: `line ${index + 1}`, index: index + 1, text };
    } else {
      yield { where: 'document', index: 1, text: document.join('\n') };
    }
    return;
  }
  const items = Array.isArray(value) ? value : [value];
  for (const [index, item] of items.entries()) {
    yield {
      where: Array.isArray(value) ? `item ${index + 1}` : 'document',
      index: index + 1,
      text: JSON.stringify(item),
    };
  }
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null;
  } catch {
    return false;
  }
}

function startsDocument(line: string): boolean {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return false;
  try {
    JSON.parse(trimmed);
    return false;
  } catch {
    return true;
  }
}
