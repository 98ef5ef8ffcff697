import { type Config, loadConfig, PROJECT_ID } from '../shared/config.ts';
import type { Incident, Silence } from '../shared/domain/incident.ts';
import type { LiveState } from '../shared/gcp/ports.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { snapshotState } from '../shared/live/snapshot-state.ts';
import { parseCommandText } from '../shared/slack/command.ts';
import { checkKsa } from '../shared/slack/ksa-check.ts';
import { clusterDetail, clusterDoc, clusterNotFoundDoc, findClusters } from '../shared/status/cluster.ts';
import { renderDocText, type StatusDoc } from '../shared/status/doc.ts';
import { summarize, summaryDoc } from '../shared/status/summary.ts';
import { type StatusSymptoms, statusSymptoms } from '../shared/status/symptoms.ts';
import { helpDoc, incidentsDoc, problemDoc } from '../shared/status/views.ts';
import { storeFromConfig } from '../shared/wiring.ts';
import type { Io } from './io.ts';
import { UsageError } from './io.ts';
import { type LiveStateFactory, liveStateOf } from './live.ts';

const COMMAND = 'wi-sentinel status';

/** Exit codes, from the answer's verdict. */
export const STATUS_EXIT = { healthy: 0, broken: 1, usage: 2, unknown: 3 } as const;

/** Builds live state from the configuration; the Google and Kubernetes clients load on first use. */

/**
 * What `/wi-status` answers, in the terminal, from the same documents. The inventory: `--snapshot
 * FILE` (or WI_SNAPSHOT), or live state exported from `--project P` (repeatable; else WI_PROJECTS or
 * GOOGLE_CLOUD_PROJECT). Incidents and silences: the store WI_STATE names (with `memory` there are
 * none to read, and the answer says so instead of calling anything healthy). `NS/KSA` runs the chain
 * check against the same source. Silencing stays in Slack, where it is authorised.
 */
export async function statusCommand(
  args: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  live: LiveStateFactory = liveStateOf,
): Promise<number> {
  const { snapshotFile, projects, json, rest } = options(args);
  if (snapshotFile !== undefined && projects.length > 0)
    throw new UsageError('give --snapshot FILE or --project P, not both');
  const bad = projects.filter((p) => !PROJECT_ID.test(p));
  if (bad.length > 0) throw new UsageError(`not a project id: ${bad.join(', ')}`);
  const config = loadConfig(env);
  const { request } = parseCommandText(rest.join(' '));
  if (request.kind === 'silence' || request.kind === 'unsilence' || request.kind === 'plan') {
    throw new UsageError(
      `${request.kind} is done from Slack (/wi-status ${request.kind} …), where it is authorised`,
    );
  }
  if (request.kind === 'help') {
    print(io, helpDoc(request, { command: COMMAND }), json);
    return request.problem ? STATUS_EXIT.usage : STATUS_EXIT.healthy;
  }

  const source = await inventoryOf(config, snapshotFile, projects, live, io);
  const store = storeFromConfig(config);
  try {
    const doc = await answer(request, source, config, store);
    print(io, doc, json);
    return exitOf(doc);
  } finally {
    // The Firestore store holds a connection open; the memory store has nothing to close.
    await (store as Partial<{ close(): Promise<void> }>).close?.();
  }
}

interface Source {
  snapshot: Snapshot | undefined;
  state: LiveState | undefined;
  /** Why the inventory is incomplete (problems of a live export). */
  problems: string[];
  label: string;
  projects: string[];
}

async function inventoryOf(
  config: Config,
  snapshotFile: string | undefined,
  projects: string[],
  live: LiveStateFactory,
  io: Io,
): Promise<Source> {
  if (projects.length === 0 && (snapshotFile ?? config.WI_SNAPSHOT)) {
    const snapshot = readSnapshotFile(snapshotFile ?? (config.WI_SNAPSHOT as string));
    return {
      snapshot,
      state: snapshotState(() => snapshot),
      problems: [],
      label: 'the snapshot',
      projects: snapshot.projects.map((p) => p.projectId),
    };
  }
  const watched =
    projects.length > 0
      ? projects
      : (config.WI_PROJECTS ?? (config.GOOGLE_CLOUD_PROJECT ? [config.GOOGLE_CLOUD_PROJECT] : []));
  if (watched.length === 0)
    throw new UsageError('give --snapshot FILE, or --project P (or set WI_SNAPSHOT, WI_PROJECTS)');
  const state = await live(config);
  // Loaded only here: a --snapshot answer never reaches the exporter or the adapters.
  const { exportSnapshot } = await import('../shared/live/export.ts');
  const { snapshot, problems } = await exportSnapshot(state, watched, {
    onProgress: (line) => io.stderr(`${line}\n`),
  });
  return {
    snapshot,
    state,
    problems: problems.map((p) => `${p.project}: ${p.what}: ${p.reason}`),
    label: 'live state',
    projects: watched,
  };
}

async function answer(
  request: Exclude<
    ReturnType<typeof parseCommandText>['request'],
    { kind: 'help' | 'silence' | 'unsilence' | 'plan' }
  >,
  source: Source,
  config: Config,
  store: ReturnType<typeof storeFromConfig>,
): Promise<StatusDoc> {
  const stored = config.WI_STATE !== 'memory';
  const unstored = 'incidents are not stored here (WI_STATE=memory)';
  const incidents = async (): Promise<Incident[]> => (stored ? store.listOpen() : []);
  switch (request.kind) {
    case 'summary': {
      const [open, felt] = await Promise.all([incidents(), symptomsOf(store, stored)]);
      const doc = summaryDoc(summarize(open, source.snapshot, felt.symptoms), {
        command: COMMAND,
        ...(stored ? {} : { incidentsUnavailable: unstored }),
        ...(felt.unavailable ? { symptomsUnavailable: felt.unavailable } : {}),
      });
      return withProblems(doc, source);
    }
    case 'cluster': {
      const lookup = findClusters(source.snapshot, request.cluster);
      if (lookup.found !== 'one' || source.snapshot === undefined)
        return clusterNotFoundDoc(
          request.cluster,
          lookup.found === 'one' ? { found: 'none' } : lookup,
          source.snapshot,
          {
            command: COMMAND,
          },
        );
      const [open, felt] = await Promise.all([incidents(), symptomsOf(store, stored)]);
      const doc = clusterDoc(clusterDetail(source.snapshot, lookup.match, open, felt.symptoms), {
        command: COMMAND,
      });
      if (!stored) doc.notes = [`Incidents not shown: ${unstored}.`, ...(doc.notes ?? [])];
      if (felt.unavailable)
        doc.notes = [`⚠️ Credential failures not shown: ${felt.unavailable}.`, ...(doc.notes ?? [])];
      return withProblems(doc, source);
    }
    case 'incidents': {
      if (!stored)
        return problemDoc(`No incidents to list: ${unstored}`, 'Set WI_STATE=firestore to read them.');
      const silences: Silence[] = await store.listSilences();
      return incidentsDoc(await incidents(), silences, new Date(), { command: COMMAND });
    }
    case 'ksa': {
      if (source.state === undefined) return problemDoc('No live state to check against');
      return checkKsa(
        {
          live: source.state,
          projects: async () => source.projects,
          inventory: async () => source.snapshot,
          source: source.label,
          symptoms: async () => (await symptomsOf(store, stored)).symptoms,
        },
        request,
      );
    }
  }
}

/**
 * Workloads' credential failures: the symptom groups still active now. None without a store (WI_STATE
 * memory keeps nothing between runs); a failed read is said, not taken for "no failures".
 */
async function symptomsOf(
  store: ReturnType<typeof storeFromConfig>,
  stored: boolean,
): Promise<{ symptoms?: StatusSymptoms; unavailable?: string }> {
  if (!stored) return {};
  const now = new Date();
  try {
    return { symptoms: statusSymptoms(await store.listSymptomGroups({ activeAt: now.toISOString() }), now) };
  } catch (error) {
    return { unavailable: `the symptom groups could not be read (${(error as Error).message})` };
  }
}

function withProblems(doc: StatusDoc, source: Source): StatusDoc {
  if (source.problems.length === 0) return doc;
  const shown = source.problems.slice(0, 5).map((p) => `⚠️ Not read: ${p}`);
  return { ...doc, notes: [...shown, ...(doc.notes ?? [])] };
}

/** The verdict a document's title starts with (doc.ts: every title starts with its mark). */
function exitOf(doc: StatusDoc): number {
  if (doc.title.startsWith('❌')) return STATUS_EXIT.broken;
  if (doc.title.startsWith('⚠️')) return STATUS_EXIT.unknown;
  return STATUS_EXIT.healthy;
}

function print(io: Io, doc: StatusDoc, json: boolean): void {
  io.stdout(json ? `${JSON.stringify(doc, null, 2)}\n` : `${renderDocText(doc)}\n`);
}

/** The options, and the rest: the same words `/wi-status` takes (`--cluster C` among them). */
function options(args: string[]): {
  snapshotFile?: string;
  projects: string[];
  json: boolean;
  rest: string[];
} {
  const rest: string[] = [];
  const projects: string[] = [];
  let snapshotFile: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      const given = inline ?? args[++i];
      if (given === undefined || given === '') throw new UsageError(`${flag} needs a value`);
      return given;
    };
    if (flag === '--snapshot') snapshotFile = value();
    else if (flag === '--project') projects.push(value());
    else if (flag === '--json') json = true;
    else rest.push(arg);
  }
  return { ...(snapshotFile ? { snapshotFile } : {}), projects, json, rest };
}
