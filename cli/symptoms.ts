import { parseArgs } from 'node:util';
import { ratePerMinute, type SymptomGroupRecord } from '../shared/domain/symptom-group.ts';
import { decodeText } from '../shared/events/decode.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { classifySymptom, type Symptom } from '../shared/symptoms/classify.ts';
import { DEFAULT_SYMPTOM_OPTIONS, lastedGrace, recordSymptom } from '../shared/symptoms/group.ts';
import { createIdentifier, type Identified } from '../shared/symptoms/identity.ts';
import { groupKey } from '../shared/symptoms/window.ts';
import { type Io, readDeliveries, UsageError } from './io.ts';

/**
 * Reads container-log deliveries (NDJSON, any of the three envelopes `detect` reads) and prints one
 * JSON line per credential failure; `-v` says on stderr why every other line is noise. At the end,
 * stderr gets the groups as auditEvents forms them (per cluster, namespace and KSA; a group quiet
 * for the window starts over), and which of them would have paged had no change explained them.
 * Nothing is sent anywhere: a user can paste a week of their own logs.
 */
export async function symptomsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { snapshot: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
  });
  if (positionals.length > 1)
    throw new UsageError(`symptoms takes one input file, got ${positionals.length}`);
  const snapshot: Snapshot | undefined = values.snapshot ? readSnapshotFile(values.snapshot) : undefined;
  const identify = createIdentifier();
  const failures: { symptom: Symptom; identified: Identified }[] = [];
  let undecodable = 0;
  try {
    for await (const { where, index, text } of readDeliveries(positionals[0], io)) {
      if (text.trim() === '') continue;
      const decoded = decodeText(text);
      if (!decoded.ok) {
        undecodable += 1;
        io.stderr(`${where}: undecodable: ${decoded.error}\n`);
        continue;
      }
      const classified = classifySymptom(decoded.delivery.entry);
      if (classified.type === 'ignored') {
        if (values.verbose) io.stderr(`${where}: noise: ${classified.reason}\n`);
        continue;
      }
      const { symptom } = classified;
      const identified = await identify(symptom, snapshot);
      failures.push({ symptom, identified });
      io.stdout(`${JSON.stringify(failureLine(index, symptom, identified))}\n`);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    io.stderr(`wi-sentinel symptoms: cannot read ${positionals[0] ?? 'standard input'}: ${code}\n`);
    return 2;
  }
  io.stderr(groupReport(failures, undecodable));
  return 0;
}

function failureLine(index: number, symptom: Symptom, { identity }: Identified) {
  return {
    line: index,
    ...(symptom.insertId ? { insertId: symptom.insertId } : {}),
    kind: symptom.kind,
    library: symptom.library,
    signature: symptom.signature,
    cluster: `${symptom.project}/${symptom.cluster.location}/${symptom.cluster.name}`,
    namespace: symptom.namespace,
    pod: symptom.pod,
    ...(identity?.ksa ? { ksa: identity.ksa } : {}),
    sample: symptom.message,
  };
}

/**
 * The groups the function would have formed, in time order (exports list the newest entry first):
 * each key's failures, a new group after a quiet window, as recordSymptom decides.
 */
function groupsOf(failures: readonly { symptom: Symptom; identified: Identified }[]): SymptomGroupRecord[] {
  const sorted = [...failures].sort((a, b) => Date.parse(a.symptom.time) - Date.parse(b.symptom.time));
  const current = new Map<string, SymptomGroupRecord>();
  const done: SymptomGroupRecord[] = [];
  for (const { symptom, identified } of sorted) {
    const at = new Date(symptom.time);
    const key = groupKey(symptom, identified.identity?.ksa);
    const previous = current.get(key);
    const { record, opened } = recordSymptom(previous, symptom, identified.identity, at, {
      ...(identified.nodePool ? { nodePool: identified.nodePool } : {}),
    });
    if (opened && previous !== undefined) done.push(previous);
    current.set(key, record);
  }
  return [...done, ...current.values()].sort((a, b) => Date.parse(a.firstSeen) - Date.parse(b.firstSeen));
}

function groupReport(
  failures: readonly { symptom: Symptom; identified: Identified }[],
  undecodable: number,
): string {
  const groups = groupsOf(failures);
  const lines = [
    `${failures.length} credential failure${failures.length === 1 ? '' : 's'} in ${groups.length} group${groups.length === 1 ? '' : 's'}${undecodable > 0 ? `; ${undecodable} undecodable line${undecodable === 1 ? '' : 's'}` : ''}`,
  ];
  const { graceMs, minFailures } = DEFAULT_SYMPTOM_OPTIONS;
  for (const group of groups) {
    const who = `${group.project}/${group.cluster.location}/${group.cluster.name} ${group.namespace}/${group.ksa ?? '*'}`;
    const kinds = Object.entries(group.kinds)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ');
    const rate = ratePerMinute(group, Date.parse(group.lastSeen)).toFixed(1);
    const pages = lastedGrace(group, Date.parse(group.firstSeen))
      ? 'would page (wi-auth-failures) unless a change explains it'
      : `would not page alone (under ${graceMs / 60_000} min or ${minFailures} failures)`;
    lines.push(
      `  ${who}: ${group.count} (${kinds}), ${rate}/min, first ${group.firstSeen}, last ${group.lastSeen}; ${pages}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
