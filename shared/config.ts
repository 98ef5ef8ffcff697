import { z } from 'zod';
import { CHANNEL_PROBLEM, isRoutingKey, isSlackChannel, ROUTING_KEY_PROBLEM } from './domain/route-forms.ts';
import { ConfigError } from './errors.ts';

/**
 * The environment, validated once at start-up. Nothing else reads process.env. A bad value stops
 * start-up with a message naming the variable, never its value (several are secrets).
 */
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** A Google Cloud project id: 6 to 30 lowercase letters, digits and hyphens, starting with a letter. */
export const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** Log Router sink names, comma-separated: full (`projects/P/sinks/S`, `folders/F/…`, `organizations/O/…`) or bare. */
function sinkNames() {
  return z
    .string()
    .trim()
    .regex(
      /^((projects|folders|organizations)\/[A-Za-z0-9._-]+\/sinks\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\s*,\s*((projects|folders|organizations)\/[A-Za-z0-9._-]+\/sinks\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,99})*$/,
      'must be sink names (S, or projects/P/sinks/S, folders/F/sinks/S, organizations/O/sinks/S), comma-separated',
    )
    .transform((value) => value.split(',').map((name) => name.trim()));
}

const envSchema = z.object({
  SLACK_BOT_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^xox[abep]-/, 'must be a Slack token (xoxb-…)')
      .optional(),
  ),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_CHANNEL: optionalText.pipe(z.string().refine(isSlackChannel, CHANNEL_PROBLEM).optional()),
  SLACK_API_URL: z.url({ message: 'must be a URL' }).default('https://slack.com/api/'),
  PAGERDUTY_ROUTING_KEY: optionalText.pipe(z.string().refine(isRoutingKey, ROUTING_KEY_PROBLEM).optional()),
  /** The secret of the PagerDuty v3 webhook subscription that pagerdutyWebhook verifies. */
  PAGERDUTY_WEBHOOK_SECRET: optionalText,
  PAGERDUTY_EVENTS_URL: z
    .url({ message: 'must be a URL' })
    .default('https://events.pagerduty.com/v2/enqueue'),
  WI_ROUTES: optionalText,
  WI_STATE: z.enum(['firestore', 'memory'], { message: 'must be firestore or memory' }).default('memory'),
  WI_SNAPSHOT: optionalText,
  GOOGLE_CLOUD_PROJECT: optionalText,
  /** Firestore database id (default: the project's `(default)` database). */
  WI_FIRESTORE_DATABASE: optionalText,
  /** Put before every collection name: several deployments can share one database. */
  WI_FIRESTORE_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'use letters, digits, - or _')
      .optional(),
  ),
  /** `host:port` of a Firestore emulator (tests, local runs). */
  FIRESTORE_EMULATOR_HOST: optionalText,
  /** Projects the sweep and the status command cover, comma-separated (default: GOOGLE_CLOUD_PROJECT). */
  WI_PROJECTS: optionalText.pipe(
    z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{4,28}[a-z0-9](,[a-z][a-z0-9-]{4,28}[a-z0-9])*$/,
        'must be project ids, comma-separated',
      )
      .transform((value) => value.split(','))
      .optional(),
  ),
  /**
   * What the sweep covers, comma-separated: `organizations/N`, `folders/N` or `projects/P` (a
   * project id). Cloud Asset Inventory is searched over it; without it, each of WI_PROJECTS is a scope.
   */
  WI_SCOPE: optionalText.pipe(
    z
      .string()
      .regex(
        /^(organizations\/\d+|folders\/\d+|projects\/[a-z][a-z0-9-]{4,28}[a-z0-9])(\s*,\s*(organizations\/\d+|folders\/\d+|projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]))*$/,
        'must be organizations/N, folders/N or projects/P, comma-separated',
      )
      .transform((value) => [...new Set(value.split(',').map((scope) => scope.trim()))])
      .optional(),
  ),
  /** Google API base URLs (defaults: Google's; tests point them at fakes). */
  GKE_API_URL: z.url({ message: 'must be a URL' }).default('https://container.googleapis.com'),
  IAM_API_URL: z.url({ message: 'must be a URL' }).default('https://iam.googleapis.com'),
  RESOURCE_MANAGER_API_URL: z
    .url({ message: 'must be a URL' })
    .default('https://cloudresourcemanager.googleapis.com'),
  CLOUD_ASSET_API_URL: z.url({ message: 'must be a URL' }).default('https://cloudasset.googleapis.com'),
  /** An OAuth access token to use instead of Application Default Credentials (as Terraform's provider). */
  GOOGLE_OAUTH_ACCESS_TOKEN: optionalText,
  /** Slack users (U…, W…) who may silence and unsilence from /wi-status, comma-separated. */
  SLACK_ALLOWED_USERS: optionalText.pipe(
    z
      .string()
      .regex(
        /^[UW][A-Z0-9]{2,}(\s*,\s*[UW][A-Z0-9]{2,})*$/,
        'must be Slack user IDs (U…, W…), comma-separated',
      )
      .transform((value) => value.split(',').map((id) => id.trim()))
      .optional(),
  ),
  /** A Slack user group (S…) whose members may silence and unsilence (needs the usergroups:read scope). */
  SLACK_ALLOWED_USERGROUP: optionalText.pipe(
    z
      .string()
      .regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group ID (S…)')
      .optional(),
  ),
  /**
   * Origins besides https://hooks.slack.com that a slash command's response_url may name, comma-
   * separated: for tests only (a fake Slack on 127.0.0.1). Never set it in production.
   */
  SLACK_RESPONSE_URL_ORIGINS: optionalText.pipe(
    z
      .string()
      .regex(
        /^https?:\/\/[^/,\s]+(\s*,\s*https?:\/\/[^/,\s]+)*$/,
        'must be origins (http://host:port), comma-separated',
      )
      .transform((value, ctx) => {
        try {
          return value.split(',').map((origin) => new URL(origin.trim()).origin);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be origins (http://host:port), comma-separated' });
          return z.NEVER;
        }
      })
      .optional(),
  ),
  /** The Pub/Sub topic of deferred /wi-status commands (wiStatus publishes, wiCommands runs them). */
  WI_COMMANDS_TOPIC: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/, 'must be a Pub/Sub topic id')
    .default('wi-sentinel-commands'),
  /** `host:port` of a Pub/Sub emulator (tests, local runs). */
  PUBSUB_EMULATOR_HOST: optionalText,
  /**
   * The audit Log Router sinks the self-checks watch, comma-separated: full names
   * (`projects/P/sinks/S`, `folders/F/sinks/S`, `organizations/O/sinks/S`), or a bare sink name
   * meaning that sink in each of WI_PROJECTS (infra's project scope).
   */
  WI_SINK: sinkNames().default(['wi-sentinel-audit']),
  /**
   * The workload-log Log Router sinks (infra's enable_workload_sink), in WI_SINK's form; the
   * self-checks watch them too, against the workload filter. Unset: there is none to watch.
   */
  WI_WORKLOAD_SINK: optionalText.pipe(sinkNames().optional()),
  /** The Pub/Sub topic the audit sink publishes to: an id in GOOGLE_CLOUD_PROJECT, or projects/P/topics/T. */
  WI_AUDIT_TOPIC: z
    .string()
    .trim()
    .regex(
      /^(projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/)?[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/,
      'must be a Pub/Sub topic id or projects/P/topics/T',
    )
    .default('wi-sentinel-audit'),
  /**
   * Read by functions-framework and express rather than by wi-sentinel: `production` (as deployed)
   * keeps stack traces and file paths out of their answers.
   */
  NODE_ENV: optionalText,
  /** Cloud Logging and Pub/Sub API base URLs, for the self-checks (defaults: Google's; tests point them at fakes). */
  LOGGING_API_URL: z.url({ message: 'must be a URL' }).default('https://logging.googleapis.com'),
  PUBSUB_API_URL: z.url({ message: 'must be a URL' }).default('https://pubsub.googleapis.com'),
  /** Cloud Monitoring (the metadata-server metric's descriptor, for the self-checks and doctor). */
  MONITORING_API_URL: z.url({ message: 'must be a URL' }).default('https://monitoring.googleapis.com'),
  /** What `wi-sentinel doctor` reads besides (defaults: Google's; tests point them at fakes). */
  CLOUD_FUNCTIONS_API_URL: z
    .url({ message: 'must be a URL' })
    .default('https://cloudfunctions.googleapis.com'),
  CLOUD_SCHEDULER_API_URL: z
    .url({ message: 'must be a URL' })
    .default('https://cloudscheduler.googleapis.com'),
  SECRET_MANAGER_API_URL: z.url({ message: 'must be a URL' }).default('https://secretmanager.googleapis.com'),
  IAM_CREDENTIALS_API_URL: z
    .url({ message: 'must be a URL' })
    .default('https://iamcredentials.googleapis.com'),
});

export type Config = z.infer<typeof envSchema>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
  throw new ConfigError(`invalid environment: ${problems.join('; ')}`);
}
