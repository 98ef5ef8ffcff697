/**
 * A fake Cloud Logging v2 API on 127.0.0.1, for the self-checks: the sinks it is given and the log
 * entries it holds, recording every call.
 *
 *   const logging = await startFakeLogging({ token, sinks: { 'projects/p/sinks/s': sink }, entries });
 *
 * Routes (https://cloud.google.com/logging/docs/reference/v2/rest):
 * - GET  /v2/{projects|folders|organizations}/ID/sinks/NAME: the LogSink; 404 when absent. This is
 *   what `@google-cloud/logging`'s ConfigServiceV2Client sends over its REST transport.
 * - POST /v2/entries:list `{ resourceNames, filter, orderBy, pageSize }`: the entries of those
 *   resources (by logName) that the filter matches, in order, one page. The filter is evaluated with
 *   test/support/logging-filter.ts; its trailing `AND timestamp>"…"` / `AND timestamp<="…"` terms
 *   (which that evaluator does not read) are applied here.
 */
import { compileFilter } from '../support/logging-filter.ts';
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

/** A LogSink as the API returns it (proto3 JSON: false and empty fields are left out). */
export interface FakeSink {
  destination: string;
  filter: string;
  disabled?: boolean;
  writerIdentity?: string;
  includeChildren?: boolean;
  exclusions?: { name: string; filter: string; disabled?: boolean }[];
}

export interface FakeLoggingOptions {
  token: string;
  sinks?: Record<string, FakeSink>;
  entries?: unknown[];
}

export interface FakeLogging extends FakeServer {
  setSink(name: string, sink: FakeSink | undefined): void;
  setEntries(entries: unknown[]): void;
}

const TIME_TERM = /\s+AND\s+timestamp\s*(>=|>|<=|<)\s*"([^"]+)"/g;

export async function startFakeLogging(options: FakeLoggingOptions): Promise<FakeLogging> {
  const sinks = new Map(Object.entries(options.sinks ?? {}));
  let entries = options.entries ?? [];

  function route(request: { method: string; path: string; body: unknown }): FakeRoute {
    const sink = /^\/v2\/((projects|folders|organizations)\/[^/]+\/sinks\/[^/]+)$/.exec(request.path);
    if (request.method === 'GET' && sink) {
      const name = sink[1] as string;
      return {
        kind: 'logging.getSink',
        answer: () => {
          const found = sinks.get(name);
          if (found === undefined)
            return { status: 404, body: googleError(404, `Sink ${name} does not exist`) };
          return { status: 200, body: sinkResource(name, found) };
        },
      };
    }
    if (request.method === 'POST' && request.path === '/v2/entries:list') {
      return { kind: 'logging.listEntries', answer: () => listEntries(request.body) };
    }
    return unknownMethod('logging', request);
  }

  function listEntries(body: unknown) {
    const {
      resourceNames = [],
      filter = '',
      orderBy = 'timestamp asc',
      pageSize = 50,
    } = (body ?? {}) as { resourceNames?: string[]; filter?: string; orderBy?: string; pageSize?: number };
    const times = [...filter.matchAll(TIME_TERM)].map(([, op = '', at = '']) => ({ op, at: Date.parse(at) }));
    let matches: (entry: unknown) => boolean;
    try {
      matches = compileFilter(filter.replace(TIME_TERM, ''));
    } catch (error) {
      return { status: 400, body: googleError(400, `invalid filter: ${(error as Error).message}`) };
    }
    const selected = entries
      .filter((entry) => {
        const { logName = '', timestamp = '' } = entry as { logName?: string; timestamp?: string };
        const at = Date.parse(timestamp);
        return (
          resourceNames.some((resource) => logName.startsWith(`${resource}/logs/`)) &&
          times.every(({ op, at: bound }) => compareTime(at, op, bound)) &&
          matches(entry)
        );
      })
      .sort((a, b) => timeOf(a) - timeOf(b));
    if (orderBy === 'timestamp desc') selected.reverse();
    const page = selected.slice(0, pageSize);
    return { status: 200, body: page.length > 0 ? { entries: page } : {} };
  }

  const server = await startGoogleFake('logging', options, route);
  return Object.assign(server, {
    setSink(name: string, sink: FakeSink | undefined) {
      putOrDelete(sinks, name, sink);
    },
    setEntries(next: unknown[]) {
      entries = next;
    },
  });
}

function timeOf(entry: unknown): number {
  return Date.parse((entry as { timestamp?: string }).timestamp ?? '');
}

function compareTime(at: number, op: string, bound: number): boolean {
  if (op === '>') return at > bound;
  if (op === '>=') return at >= bound;
  if (op === '<') return at < bound;
  return at <= bound;
}

function sinkResource(name: string, sink: FakeSink) {
  const exclusions = sink.exclusions ?? [];
  return {
    name: name.split('/').at(-1),
    resourceName: name,
    destination: sink.destination,
    filter: sink.filter,
    ...(sink.disabled ? { disabled: true } : {}),
    ...(exclusions.length > 0 ? { exclusions } : {}),
    ...(sink.writerIdentity ? { writerIdentity: sink.writerIdentity } : {}),
    ...(sink.includeChildren ? { includeChildren: true } : {}),
    createTime: '2026-11-01T09:00:00.000000Z',
    updateTime: '2026-11-01T09:00:00.000000Z',
  };
}
