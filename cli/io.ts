import { createReadStream } from 'node:fs';

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
  let number = 0;
  let document: string[] | undefined;
  for await (const text of linesOf(input)) {
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

/**
 * The lines of a stream (`\n`, `\r\n` or a lone `\r` ends one, as readline splits them), each
 * chunk's lines handed over before the next chunk is read. readline's async iterator queues the
 * lines of every chunk it reads ahead of a slower consumer: there, lines of several KB outlive
 * young-generation collections and are copied to the old space, which cost `detect` more than all
 * of its parsing.
 */
export async function* linesOf(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    let start = 0;
    for (;;) {
      const end = lineEnd(rest, start);
      // A `\r` last in the chunk may be the first half of `\r\n`: wait for the next chunk.
      if (end === -1 || (rest[end] === '\r' && end === rest.length - 1)) break;
      yield rest.slice(start, end);
      start = end + (rest[end] === '\r' && rest[end + 1] === '\n' ? 2 : 1);
    }
    rest = rest.slice(start);
  }
  rest += decoder.decode();
  // The last line needs no end; an end last in the input starts no empty line.
  if (rest.endsWith('\r')) yield rest.slice(0, -1);
  else if (rest !== '') yield rest;
}

/** Where the line starting at `from` ends (its `\n` or `\r`), or -1 when the text holds no end. */
function lineEnd(text: string, from: number): number {
  const newline = text.indexOf('\n', from);
  const carriage = text.indexOf('\r', from);
  if (carriage === -1) return newline;
  return newline === -1 ? carriage : Math.min(newline, carriage);
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
