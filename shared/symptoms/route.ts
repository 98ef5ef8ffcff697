import { isMonitoringNotification } from '../events/monitoring.ts';
import { entryJsonOf, mayHoldSymptom } from './prescreen.ts';

/**
 * Which path a delivery takes, from its raw text: audit entries go on exactly as before; a container
 * entry holding no signature's needle is noise, acknowledged without a parse; the rest is decoded once.
 */

export type Route =
  | { path: 'audit' }
  | { path: 'noise'; reason: string }
  | { path: 'container'; value: unknown }
  | { path: 'monitoring'; notification: unknown };

/** `"type": "k8s_container"` in any JSON spacing: a container entry, told from its raw text. */
const CONTAINER_TYPE = /"type"\s*:\s*"k8s_container"/;

export function routeOf(input: unknown): Route {
  const value = typeof input === 'string' ? parse(input) : input;
  if (value === undefined) return { path: 'audit' };
  const json = entryJsonOf(value);
  if (json === undefined) {
    // A bare LogEntry or notification (replay, tests): already parsed.
    if (field(field(value, 'resource'), 'type') === 'k8s_container') return { path: 'container', value };
    if (isMonitoringNotification(value)) return { path: 'monitoring', notification: value };
    return { path: 'audit' };
  }
  if (CONTAINER_TYPE.test(json)) {
    if (!mayHoldSymptom(json))
      return { path: 'noise', reason: 'container log without a credential-failure signature' };
    return { path: 'container', value };
  }
  if (json.includes('"incident"') && json.includes('"version"')) {
    const notification = parse(json);
    if (isMonitoringNotification(notification)) return { path: 'monitoring', notification };
  }
  return { path: 'audit' };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
