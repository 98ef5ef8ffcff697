import { parseArgs } from 'node:util';
import { auditSinkFilter } from '../shared/events/sink-filter.ts';
import { workloadSinkFilter } from '../shared/symptoms/filter.ts';
import { type Io, UsageError } from './io.ts';

/**
 * Every sink's filter by name: infra/ keeps each in `infra/filters/NAME.filter`. `audit`: the watched
 * methods (shared/events/sink-filter.ts); `workload`: container log entries carrying a
 * credential-failure signature, and the gke-metadata-server pods' errors (shared/symptoms/filter.ts),
 * delivered to the audit topic too. Named here, where both are printed: events/ sits below symptoms/.
 */
export const SINK_FILTERS: Record<string, () => string> = {
  audit: () => auditSinkFilter(),
  workload: () => workloadSinkFilter(),
};

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
