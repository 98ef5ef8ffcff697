import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { linesOf } from '../../cli/io.ts';

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

/** The text cut into chunks at the given offsets (as a file or a pipe hands it over). */
function chunked(text: string, cuts: number[]): Readable {
  const bytes = Buffer.from(text);
  const bounds = [
    0,
    ...cuts.filter((cut) => cut > 0 && cut < bytes.length).sort((a, b) => a - b),
    bytes.length,
  ];
  return Readable.from(bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end)));
}

describe('linesOf', () => {
  const texts = [
    'a\nb\nc\n',
    'a\nb\nc',
    'a\r\nb\r\n\r\nc',
    'a\rb\r\rc\r',
    '\n\nx\n',
    '',
    'é€\n😀\r\nlast',
    `${'{"k":"v"}'.repeat(3000)}\n${'z'.repeat(70_000)}\r\n`,
  ];

  test('splits as readline does (crlfDelay: Infinity), wherever the chunks are cut', async () => {
    for (const text of texts) {
      const expected = await collect(
        createInterface({ input: Readable.from([text]), crlfDelay: Number.POSITIVE_INFINITY }),
      );
      const length = Buffer.byteLength(text);
      // Every cut of short texts (a \r\n or a UTF-8 character split in two), and a few of long ones.
      const cuts = length < 40 ? [...Array(length).keys()] : [1, 7, 4096, 27_000, 65_536, length - 1];
      for (const cut of cuts) {
        assert.deepEqual(
          await collect(linesOf(chunked(text, [cut]))),
          expected,
          `${JSON.stringify(text.slice(0, 20))} cut at ${cut}`,
        );
      }
      assert.deepEqual(await collect(linesOf(chunked(text, cuts))), expected);
    }
  });

  test('hands over the lines of a chunk before reading the next one', async () => {
    let read = 0;
    const input = Readable.from(
      (function* () {
        for (let i = 0; i < 5; i += 1) {
          read += 1;
          yield Buffer.from(`line ${i}a\nline ${i}b\n`);
        }
      })(),
    );
    const seen: number[] = [];
    for await (const _ of linesOf(input)) seen.push(read);
    // A reader that queued ahead would have read every chunk before the first line was consumed.
    assert.ok(seen[0] !== undefined && seen[0] < 5, `chunks read before the first line: ${seen[0]}`);
  });
});
