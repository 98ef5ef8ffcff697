import { parseArgs } from 'node:util';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { analyze } from '../shared/pipeline.ts';
import { type Io, readDeliveries, UsageError } from './io.ts';

/**
 * Reads NDJSON deliveries (LogEntry, Pub/Sub push body or CloudEvent a line) and writes one Finding
 * a line. A bad line is reported on stderr by its number; the rest is still processed; exit 2.
 */
export async function detectCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { snapshot: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`detect takes one input file, got ${positionals.length}`);
  const snapshot: Snapshot | undefined = values.snapshot ? readSnapshotFile(values.snapshot) : undefined;
  let bad = 0;
  for await (const { where, text } of readDeliveries(positionals[0], io)) {
    if (text.trim() === '') continue;
    const analysis = analyze(text, snapshot);
    if (analysis.outcome === 'invalid') {
      bad += 1;
      io.stderr(`${where}: ${analysis.error}\n`);
    } else if (analysis.outcome === 'ignored') {
      if (values.verbose) io.stderr(`${where}: ignored: ${analysis.reason}\n`);
    } else {
      for (const finding of analysis.findings) io.stdout(`${JSON.stringify(finding)}\n`);
    }
  }
  return bad > 0 ? 2 : 0;
}
