import { type GoogleHttp, unlessNotFound } from './http.ts';

/**
 * A Cloud Scheduler job, as `wi-sentinel doctor` reads it (`jobs.get`,
 * https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs/get): whether it
 * is enabled, when it last ran and how that went, when it runs next.
 */
export interface SchedulerJobInfo {
  name: string;
  /** ENABLED, PAUSED, DISABLED, UPDATE_FAILED. */
  state: string;
  schedule?: string;
  /** When the last attempt started (absent: it never ran). */
  lastAttemptTime?: string;
  /** When it runs next. */
  scheduleTime?: string;
  /** The last attempt's outcome: code 0 or absent is success. */
  status?: { code?: number; message?: string };
  /** The topic a Pub/Sub job publishes to. */
  topic?: string;
}

export interface SchedulerPort {
  /** `name` is `projects/P/locations/L/jobs/J`; `undefined` when it does not exist. */
  getJob(name: string): Promise<SchedulerJobInfo | undefined>;
}

export function createSchedulerPort({
  http,
  apiUrl = 'https://cloudscheduler.googleapis.com',
}: {
  http: GoogleHttp;
  apiUrl?: string;
}): SchedulerPort {
  const base = apiUrl.replace(/\/+$/, '');
  return {
    async getJob(name) {
      const job = await unlessNotFound(
        http.request<Omit<SchedulerJobInfo, 'topic'> & { pubsubTarget?: { topicName?: string } }>({
          api: 'cloudscheduler',
          method: 'GET',
          url: `${base}/v1/${name}`,
          permission: 'cloudscheduler.jobs.get',
          what: `scheduler job ${name}`,
        }),
      );
      if (job === undefined) return undefined;
      return {
        name: job.name ?? name,
        state: job.state ?? 'STATE_UNSPECIFIED',
        ...(job.schedule ? { schedule: job.schedule } : {}),
        ...(job.lastAttemptTime ? { lastAttemptTime: job.lastAttemptTime } : {}),
        ...(job.scheduleTime ? { scheduleTime: job.scheduleTime } : {}),
        ...(job.status ? { status: job.status } : {}),
        ...(job.pubsubTarget?.topicName ? { topic: job.pubsubTarget.topicName } : {}),
      };
    },
  };
}
