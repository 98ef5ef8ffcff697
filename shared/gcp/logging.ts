import type { protos, v2 } from '@google-cloud/logging';
import { LookupError } from '../errors.ts';
import { oauthClientFor, type TokenSource } from './auth.ts';
import { gaxEndpoint, gaxLookupError } from './gax-error.ts';
import { DEFAULT_TIMEOUT_MS, type GoogleHttp } from './http.ts';
import { DEFAULT_RETRY, type RetryHooks, type RetryPolicy, withRetries } from './retry.ts';

/**
 * What the self-checks read from Cloud Logging: the audit sink (`@google-cloud/logging`'s
 * ConfigServiceV2Client, loaded on first use: gRPC to Google, its REST transport to any other URL),
 * and recent log entries (`entries.list` over REST with the fetch client). Entries are read as JSON
 * because the delivery check runs them through the pipeline's own decoder, exactly as the sink would
 * deliver them; the library hands entries back as protobuf messages (an audit payload is an `Any`
 * whose request and response are protobuf Structs), which the decoder does not read.
 * https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list
 */

/** A Log Router sink, as the self-checks need it. */
export interface SinkInfo {
  /** The full resource name: `projects/P/sinks/S`, `organizations/O/sinks/S`, … */
  name: string;
  /** `pubsub.googleapis.com/projects/P/topics/T` */
  destination: string;
  filter: string;
  disabled: boolean;
  /** `serviceAccount:…` the sink publishes as. */
  writerIdentity?: string;
  includeChildren: boolean;
  /** Exclusions that apply (disabled ones are left out). */
  exclusions: { name: string; filter: string }[];
}

export interface ListEntriesRequest {
  /** `projects/P`, … */
  resourceNames: string[];
  filter: string;
  orderBy?: 'timestamp asc' | 'timestamp desc';
  /** At most this many entries (one page: entries.list allows up to 1,000). */
  pageSize: number;
}

export interface LoggingPort {
  /** `undefined` when the sink does not exist (404). */
  getSink(name: string): Promise<SinkInfo | undefined>;
  /** The first page of entries matching the request, as JSON. */
  listEntries(request: ListEntriesRequest): Promise<unknown[]>;
}

export interface LoggingAdapterOptions {
  tokens: TokenSource;
  /** For entries.list (built with the same tokens). */
  http: GoogleHttp;
  /** Default https://logging.googleapis.com */
  apiUrl?: string;
  /** Per attempt, ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

const GOOGLE_HOST = 'logging.googleapis.com';

type ConfigClient = InstanceType<typeof v2.ConfigServiceV2Client>;

export function createLoggingPort({
  tokens,
  http,
  apiUrl = `https://${GOOGLE_HOST}`,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  retry = DEFAULT_RETRY,
  hooks = {},
}: LoggingAdapterOptions): LoggingPort {
  let client: Promise<ConfigClient> | undefined;
  const clientOf = () => {
    client ??= createConfigClient(apiUrl, tokens).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  // gax retries nothing (retry: null): our policy retries, so every API reads alike.
  const callOptions = { timeout: timeoutMs, retry: null };
  const base = apiUrl.replace(/\/+$/, '');

  return {
    async getSink(name) {
      const what = `log sink ${name}`;
      try {
        const [sink] = await withRetries(
          async () => {
            const c = await clientOf();
            try {
              return await c.getSink({ sinkName: name }, callOptions);
            } catch (error) {
              throw gaxLookupError(error, {
                api: 'logging',
                what,
                permission: 'logging.sinks.get',
                timeoutMs,
              });
            }
          },
          retry,
          hooks,
        );
        return toSinkInfo(name, sink);
      } catch (error) {
        if (error instanceof LookupError && error.status === 404) return undefined;
        throw error;
      }
    },

    async listEntries({ resourceNames, filter, orderBy = 'timestamp asc', pageSize }) {
      const page = await http.request<{ entries?: unknown[] }>({
        api: 'logging',
        method: 'POST',
        url: `${base}/v2/entries:list`,
        body: { resourceNames, filter, orderBy, pageSize },
        permission: 'logging.logEntries.list',
        what: `log entries of ${resourceNames.join(', ')}`,
      });
      return page.entries ?? [];
    },
  };
}

async function createConfigClient(apiUrl: string, tokens: TokenSource): Promise<ConfigClient> {
  const [{ v2 }, authClient] = await Promise.all([import('@google-cloud/logging'), oauthClientFor(tokens)]);
  const endpoint = gaxEndpoint(apiUrl, GOOGLE_HOST);
  return new v2.ConfigServiceV2Client({ authClient, ...endpoint });
}

type LogSink = protos.google.logging.v2.ILogSink;

function toSinkInfo(name: string, sink: LogSink): SinkInfo {
  return {
    name,
    destination: sink.destination ?? '',
    filter: sink.filter ?? '',
    disabled: sink.disabled === true,
    ...(sink.writerIdentity ? { writerIdentity: sink.writerIdentity } : {}),
    includeChildren: sink.includeChildren === true,
    exclusions: (sink.exclusions ?? [])
      .filter((exclusion) => exclusion.disabled !== true)
      .map((exclusion) => ({ name: exclusion.name ?? '', filter: exclusion.filter ?? '' })),
  };
}
