import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { type Finding, type FindingSeverity, isPagingKind, scopeOf } from '../domain/finding.ts';
import { type Incident, pagesNobody } from '../domain/incident.ts';
import { CHANNEL_PROBLEM, isRoutingKey, isSlackChannel, ROUTING_KEY_PROBLEM } from '../domain/route-forms.ts';
import { ConfigError } from '../errors.ts';
import { type PlanRule, WEEKDAYS } from '../incidents/plans.ts';
import { globMatch } from '../incidents/silences.ts';
import { formatIssues } from '../inventory/snapshot.ts';
import type { Destination } from './types.ts';

/**
 * The YAML parser (72 modules, ~35 ms to load) is required on first use: only a deployment with a
 * routing file reads YAML, and every other cold start, the auditEvents one above all, need not pay
 * for it. Under Node, `import 'yaml'` and `require('yaml')` resolve to the same CommonJS build.
 */
const require = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (require('yaml') as typeof import('yaml')).parse(text);
}

/**
 * Routing: rules matching project / cluster / namespace / kind / severity send an incident to a
 * Slack channel, a PagerDuty service, or both. First match wins unless the rule says `continue`;
 * nothing matched → the default route (SLACK_CHANNEL / PAGERDUTY_ROUTING_KEY). Only `critical` and
 * `error` page by default, and hygiene kinds never do.
 *
 *   pageSeverities: [critical, error]
 *   routes:
 *     - match: { namespace: payments, severity: [critical, error] }
 *       slack: "#payments-oncall"
 *       pagerduty: { routingKeyEnv: PAGERDUTY_KEY_PAYMENTS }
 *     - match: { cluster: "staging-*" }
 *       slack: "#platform-staging"
 */
const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]);
const pattern = z.string().min(1);

const routeSchema = z
  .strictObject({
    match: z
      .strictObject({
        project: oneOrMany(pattern).optional(),
        cluster: oneOrMany(pattern).optional(),
        namespace: oneOrMany(pattern).optional(),
        kind: oneOrMany(pattern).optional(),
        severity: oneOrMany(z.enum(SEVERITIES)).optional(),
      })
      .default({}),
    slack: z
      .union([
        z.string().refine(isSlackChannel, CHANNEL_PROBLEM),
        z.strictObject({ channel: z.string().refine(isSlackChannel, CHANNEL_PROBLEM) }),
      ])
      .optional(),
    pagerduty: z
      .strictObject({
        /** The name of an environment variable that holds the routing key (keys are secrets). */
        routingKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable'),
      })
      .optional(),
    continue: z.boolean().default(false),
  })
  .refine((route) => route.slack !== undefined || route.pagerduty !== undefined, {
    message: 'a route needs slack, pagerduty or both',
  });

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Whether the runtime knows the IANA time zone (Intl throws a RangeError for one it does not). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * A standing planned change: changes matching it (by the principal that made them or one it acted
 * for, the tool, where), during its hours, are told to Slack marked planned and page nobody unless
 * pods fail. `actor: "deployer@acme-ops.iam.gserviceaccount.com"`, `hours: { days: [mon, …], from:
 * "08:00", to: "18:00", timeZone: Europe/Berlin }`.
 */
const planRuleSchema = z.strictObject({
  match: z
    .strictObject({
      actor: pattern.optional(),
      tool: pattern.optional(),
      project: pattern.optional(),
      cluster: pattern.optional(),
      namespace: pattern.optional(),
      ksa: z
        .string()
        .regex(/^[^/]+\/[^/]+$/, 'must be NAMESPACE/NAME')
        .optional(),
      kind: pattern.optional(),
    })
    .refine((match) => Object.keys(match).length > 0, {
      message: 'a planned change needs at least one matcher',
    }),
  reason: z.string().min(1).max(300),
  hours: z
    .strictObject({
      days: z
        .array(z.enum(WEEKDAYS))
        .min(1)
        .default([...WEEKDAYS]),
      from: z.string().regex(CLOCK, 'must be HH:MM'),
      to: z.string().regex(CLOCK, 'must be HH:MM'),
      timeZone: z.string().refine(knownTimeZone, 'is not an IANA time zone').optional(),
    })
    .optional(),
});

export const routesFileSchema = z.strictObject({
  pageSeverities: z.array(z.enum(SEVERITIES)).default(['critical', 'error']),
  routes: z.array(routeSchema).default([]),
  plannedChanges: z.array(planRuleSchema).default([]),
});

interface Route {
  match: z.infer<typeof routeSchema>['match'];
  destinations: Destination[];
  continue: boolean;
}

export interface Routing {
  routes: Route[];
  defaults: Destination[];
  pageSeverities: FindingSeverity[];
  /** The routing file's standing planned changes (see plans.ts). */
  plans?: PlanRule[];
}

export interface RoutingDefaults {
  slackChannel?: string | undefined;
  pagerdutyRoutingKey?: string | undefined;
}

function destinationsOf(defaults: RoutingDefaults): Destination[] {
  return [
    ...(defaults.slackChannel ? [{ type: 'slack' as const, channel: defaults.slackChannel }] : []),
    ...(defaults.pagerdutyRoutingKey
      ? [{ type: 'pagerduty' as const, routingKey: defaults.pagerdutyRoutingKey }]
      : []),
  ];
}

/** Parses a routing file (YAML or JSON); errors name the file and the path of each bad field. */
export function parseRouting(
  text: string,
  {
    file = 'routing file',
    env = {},
    defaults = {},
  }: { file?: string; env?: NodeJS.ProcessEnv; defaults?: RoutingDefaults } = {},
): Routing {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${file} is not YAML or JSON: ${(error as Error).message}`);
  }
  const parsed = routesFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new ConfigError(`${file}: ${formatIssues(parsed.error.issues)}`);
  const routes = parsed.data.routes.map((route, index): Route => {
    const destinations: Destination[] = [];
    if (route.slack !== undefined) {
      destinations.push({
        type: 'slack',
        channel: typeof route.slack === 'string' ? route.slack : route.slack.channel,
      });
    }
    if (route.pagerduty !== undefined) {
      const name = route.pagerduty.routingKeyEnv;
      const key = env[name]?.trim();
      if (!key) {
        throw new ConfigError(`${file}: routes.${index}.pagerduty.routingKeyEnv: ${name} is not set`);
      }
      // Checked as PAGERDUTY_ROUTING_KEY is: a typo would only show as PagerDuty's 400, a page lost.
      if (!isRoutingKey(key)) {
        throw new ConfigError(
          `${file}: routes.${index}.pagerduty.routingKeyEnv: ${name} ${ROUTING_KEY_PROBLEM}`,
        );
      }
      destinations.push({ type: 'pagerduty', routingKey: key });
    }
    return { match: route.match, destinations, continue: route.continue };
  });
  const plans = parsed.data.plannedChanges.map(
    (rule): PlanRule => ({
      matchers: Object.fromEntries(Object.entries(rule.match).filter(([, v]) => v !== undefined)),
      reason: rule.reason,
      ...(rule.hours
        ? {
            hours: {
              days: rule.hours.days,
              from: rule.hours.from,
              to: rule.hours.to,
              ...(rule.hours.timeZone ? { timeZone: rule.hours.timeZone } : {}),
            },
          }
        : {}),
    }),
  );
  return {
    routes,
    defaults: destinationsOf(defaults),
    pageSeverities: parsed.data.pageSeverities,
    ...(plans.length > 0 ? { plans } : {}),
  };
}

/** The routing of a deployment without a routing file: everything to the defaults. */
export function defaultRouting(defaults: RoutingDefaults): Routing {
  return { routes: [], defaults: destinationsOf(defaults), pageSeverities: ['critical', 'error'] };
}

function anyMatch(
  patterns: string | readonly string[] | undefined,
  values: readonly (string | undefined)[],
): boolean {
  if (patterns === undefined) return true;
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  return list.some((p) => values.some((v) => v !== undefined && globMatch(p, v)));
}

function routeMatches(match: Route['match'], finding: Finding): boolean {
  const { namespaces, clusters } = scopeOf(finding);
  return (
    anyMatch(match.project, [finding.project]) &&
    anyMatch(match.cluster, clusters) &&
    anyMatch(match.namespace, namespaces) &&
    anyMatch(match.kind, [finding.kind]) &&
    anyMatch(match.severity, [finding.severity])
  );
}

/** Where the finding's incident is told; PagerDuty only when it pages. */
export function route(finding: Finding, routing: Routing): Destination[] {
  const chosen: Destination[] = [];
  let matched = false;
  for (const candidate of routing.routes) {
    if (!routeMatches(candidate.match, finding)) continue;
    matched = true;
    chosen.push(...candidate.destinations);
    if (!candidate.continue) break;
  }
  const pages = isPagingKind(finding.kind) && routing.pageSeverities.includes(finding.severity);
  const seen = new Set<string>();
  return (matched ? chosen : routing.defaults).filter((destination) => {
    if (destination.type === 'pagerduty' && !pages) return false;
    const key = destinationKey(destination);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Where an incident is told: its finding's route, without PagerDuty while a plan holds the page back. */
export function routeIncident(
  incident: Pick<Incident, 'finding' | 'planned'>,
  routing: Routing,
): Destination[] {
  const destinations = route(incident.finding, routing);
  return pagesNobody(incident) ? destinations.filter((d) => d.type !== 'pagerduty') : destinations;
}

/** A stable key for a destination that never reveals a routing key. */
export function destinationKey(destination: Destination): string {
  if (destination.type === 'slack') return `slack:${destination.channel}`;
  return `pagerduty:${createHash('sha256').update(destination.routingKey).digest('hex').slice(0, 12)}`;
}
