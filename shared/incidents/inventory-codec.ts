import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { brotliDecompress, constants, createBrotliCompress } from 'node:zlib';
import { StoreError } from '../errors.ts';
import type { Snapshot } from '../inventory/snapshot.ts';

/**
 * How a stored inventory is encoded where a document is limited in size (Firestore: 1 MiB): the
 * Snapshot's JSON, compressed with Brotli, cut in chunks. Measured on a generated organization of
 * 50 clusters and 60,000 pods (24.8 MB of JSON): Brotli at quality 5 gives about 1.2 MB in about
 * 0.2 s and decompresses in under 50 ms; gzip -6 gives 2.9 MB, slower both ways.
 *
 * The JSON is written to the compressor a cluster at a time, never held whole: an organization ten
 * times that size has about 250 MB of it, which as one string and one buffer would double the
 * reconcile function's memory at its peak.
 */

export const INVENTORY_ENCODING = 'br';
const QUALITY = 5;

const decompress = promisify(brotliDecompress);
/** JSON handed to the compressor at once: large enough to keep it busy, small beside the inventory. */
const WRITE_BYTES = 1 << 20;

export interface EncodedInventory {
  data: Buffer;
  /** Length of the JSON, in bytes: decoding never inflates past it. */
  jsonBytes: number;
  /** SHA-256 (hex) of `data`: a reader knows it has every byte of one inventory. */
  sha256: string;
}

export async function encodeInventory(snapshot: Snapshot): Promise<EncodedInventory> {
  const compressor = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: QUALITY } });
  const out: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = once(compressor, 'end');
  let jsonBytes = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = async () => {
    const bytes = Buffer.from(pending.join(''), 'utf8');
    pending = [];
    pendingLength = 0;
    jsonBytes += bytes.length;
    if (!compressor.write(bytes)) await once(compressor, 'drain');
  };
  for (const piece of snapshotJson(snapshot)) {
    pending.push(piece);
    pendingLength += piece.length;
    if (pendingLength >= WRITE_BYTES) await flush();
  }
  await flush();
  compressor.end();
  await ended;
  const data = Buffer.concat(out);
  return { data, jsonBytes, sha256: sha256(data) };
}

/** JSON.stringify(snapshot), in pieces: each cluster of each project on its own. */
export function* snapshotJson(snapshot: Snapshot): Generator<string> {
  yield* objectJson(snapshot, {
    projects: (projects) =>
      arrayJson(projects, (project) =>
        objectJson(project as Record<string, unknown>, {
          clusters: (clusters) => arrayJson(clusters, (cluster) => [JSON.stringify(cluster)]),
        }),
      ),
  });
}

type Pieces = (items: readonly unknown[]) => Iterable<string>;

/** An object as JSON.stringify writes it (keys in order, undefined left out), some arrays in pieces. */
function* objectJson(value: Record<string, unknown>, streamed: Record<string, Pieces>): Generator<string> {
  let first = true;
  yield '{';
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    const pieces = Array.isArray(item) ? streamed[key] : undefined;
    if (pieces) yield* pieces(item as unknown[]);
    else yield JSON.stringify(item);
  }
  yield '}';
}

function* arrayJson<T>(items: readonly T[], each: (item: T) => Iterable<string>): Generator<string> {
  yield '[';
  for (const [index, item] of items.entries()) {
    if (index > 0) yield ',';
    yield* each(item);
  }
  yield ']';
}

/** The Snapshot back; a permanent StoreError when the bytes are not the ones encoded. */
export async function decodeInventory(
  data: Buffer,
  expected: { encoding: string; jsonBytes: number; sha256: string; what: string },
): Promise<Snapshot> {
  if (expected.encoding !== INVENTORY_ENCODING) {
    throw new StoreError(`${expected.what} is encoded as ${expected.encoding}, not ${INVENTORY_ENCODING}`, {
      retryable: false,
    });
  }
  if (sha256(data) !== expected.sha256) {
    throw new StoreError(`${expected.what} is corrupt: its bytes do not match their SHA-256`, {
      retryable: false,
    });
  }
  // Bounded by the recorded length: never inflate more than was written.
  const json = await decompress(data, { maxOutputLength: Math.max(1, expected.jsonBytes) });
  return JSON.parse(json.toString('utf8')) as Snapshot;
}

/** `data` cut into pieces of at most `size` bytes (views, not copies). */
export function chunksOf(data: Buffer, size: number): Buffer[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size ${size}: a positive integer`);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size)
    chunks.push(data.subarray(offset, offset + size));
  return chunks.length > 0 ? chunks : [data];
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
