import { parseArgs } from 'node:util';
import { SINK_FILTERS } from '../shared/events/sink-filter.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

/**
 * Prints the Logging filter of a Log Router sink (default `audit`; `workload` for the symptom
 * sink), as infra/filters/NAME.filter holds it:
 * `npx wi-sentinel sink-filter --sink NAME > infra/filters/NAME.filter` regenerates that file.
 */
export async function sinkFilterCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { sink: { type: 'string', default: 'audit' } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`sink-filter takes no file, got ${positionals.join(' ')}`);
  const filter = SINK_FILTERS[values.sink];
  if (filter === undefined) {
    const known = Object.keys(SINK_FILTERS).join(', ');
    throw new UsageError(`no sink named ${JSON.stringify(values.sink)} (known: ${known})`);
  }
  io.stdout(`${filter()}\n`);
  return 0;
}
