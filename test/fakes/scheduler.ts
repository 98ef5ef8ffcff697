/**
 * A fake Cloud Scheduler v1 API on 127.0.0.1: the jobs it is given, recording every call.
 *
 * Route (https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/get):
 * GET /v1/projects/P/locations/L/jobs/J: the Job, or 404.
 */
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

export interface FakeJob {
  state: string;
  schedule?: string;
  timeZone?: string;
  lastAttemptTime?: string;
  scheduleTime?: string;
  status?: { code: number; message: string };
  pubsubTarget?: { topicName: string; data?: string };
}

export interface FakeScheduler extends FakeServer {
  setJob(name: string, job: FakeJob | undefined): void;
}

export async function startFakeScheduler(options: {
  token: string;
  jobs?: Record<string, FakeJob>;
}): Promise<FakeScheduler> {
  const jobs = new Map(Object.entries(options.jobs ?? {}));

  function route(request: { method: string; path: string }): FakeRoute {
    const match = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/jobs\/[^/]+)$/.exec(request.path);
    if (request.method === 'GET' && match) {
      const name = match[1] as string;
      return {
        kind: 'cloudscheduler.getJob',
        answer: () => {
          const job = jobs.get(name);
          return job === undefined
            ? { status: 404, body: googleError(404, `Job not found: ${name}`) }
            : { status: 200, body: { name, ...job } };
        },
      };
    }
    return unknownMethod('cloudscheduler', request);
  }

  const server = await startGoogleFake('cloudscheduler', options, route);
  return Object.assign(server, {
    setJob(name: string, job: FakeJob | undefined) {
      putOrDelete(jobs, name, job);
    },
  });
}
