import { type GoogleHttp, unlessNotFound } from './http.ts';

/**
 * A metric's descriptor from Cloud Monitoring v3, read through `metricDescriptors.get`
 * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.metricDescriptors/get): whether a
 * metric exists in a project, and its labels. The self-checks read it because Monitoring accepts an
 * alert condition on a metric that does not exist and then never fires.
 */
export interface MetricDescriptorInfo {
  type: string;
  labels: string[];
  /** `GA`, `BETA`, … when Monitoring says. */
  launchStage?: string;
}

export interface MetricDescriptorPort {
  /** `undefined` when the project has no such metric (404). */
  getMetricDescriptor(project: string, type: string): Promise<MetricDescriptorInfo | undefined>;
}

export interface MonitoringAdapterOptions {
  http: GoogleHttp;
  /** Default https://monitoring.googleapis.com */
  apiUrl?: string;
}

export function createMetricDescriptorPort({
  http,
  apiUrl = 'https://monitoring.googleapis.com',
}: MonitoringAdapterOptions): MetricDescriptorPort {
  const base = apiUrl.replace(/\/+$/, '');
  return {
    async getMetricDescriptor(project, type) {
      // The type is a path of its own (kubernetes.io/node/…): its slashes stay.
      const path = type.split('/').map(encodeURIComponent).join('/');
      const descriptor = await unlessNotFound(
        http.request<{ type?: string; labels?: { key?: string }[]; launchStage?: string }>({
          api: 'monitoring',
          method: 'GET',
          url: `${base}/v3/projects/${encodeURIComponent(project)}/metricDescriptors/${path}`,
          permission: 'monitoring.metricDescriptors.get',
          what: `metric ${type} of project ${project}`,
        }),
      );
      if (descriptor === undefined) return undefined;
      return {
        type: descriptor.type ?? type,
        labels: (descriptor.labels ?? []).map((label) => label.key ?? '').filter((key) => key !== ''),
        ...(descriptor.launchStage ? { launchStage: descriptor.launchStage } : {}),
      };
    },
  };
}
