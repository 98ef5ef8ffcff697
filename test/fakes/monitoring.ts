/**
 * A fake Cloud Monitoring v3 API on 127.0.0.1: the metric descriptors of each project, recording every
 * call. A project it does not know answers 403, as Monitoring does for a project out of reach.
 *
 *   const monitoring = await startFakeMonitoring({ token, descriptors: { p: [{ type, labels: ['response_code'] }] } });
 *
 * Route (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.metricDescriptors/get):
 * GET /v3/projects/P/metricDescriptors/TYPE (the type's slashes kept): the descriptor, or 404.
 */
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

export interface FakeMetric {
  type: string;
  labels: string[];
}

export interface FakeMonitoring extends FakeServer {
  setDescriptors(project: string, metrics: FakeMetric[] | undefined): void;
}

export async function startFakeMonitoring(options: {
  token: string;
  descriptors?: Record<string, FakeMetric[]>;
}): Promise<FakeMonitoring> {
  const projects = new Map(Object.entries(options.descriptors ?? {}));

  function route(request: { method: string; path: string }): FakeRoute {
    const match = /^\/v3\/projects\/([^/]+)\/metricDescriptors\/(.+)$/.exec(request.path);
    if (request.method === 'GET' && match) {
      const [, project = '', type = ''] = match;
      return {
        kind: 'monitoring.getMetricDescriptor',
        answer: () => {
          const metrics = projects.get(project);
          if (metrics === undefined) {
            return {
              status: 403,
              body: googleError(
                403,
                `Permission monitoring.metricDescriptors.get denied (or project ${project} unknown)`,
              ),
            };
          }
          const metric = metrics.find((m) => m.type === type);
          if (metric === undefined) {
            return { status: 404, body: googleError(404, `Could not find descriptor for metric '${type}'.`) };
          }
          return {
            status: 200,
            body: {
              name: `projects/${project}/metricDescriptors/${type}`,
              type,
              metricKind: 'DELTA',
              valueType: 'INT64',
              launchStage: 'GA',
              labels: metric.labels.map((key) => ({ key, valueType: 'STRING' })),
            },
          };
        },
      };
    }
    return unknownMethod('monitoring', request);
  }

  const server = await startGoogleFake('monitoring', options, route);
  return Object.assign(server, {
    setDescriptors(project: string, metrics: FakeMetric[] | undefined) {
      putOrDelete(projects, project, metrics);
    },
  });
}
