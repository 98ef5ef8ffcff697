import type { Incident, Silence, SilenceMatchers } from '../domain/incident.ts';
import { ago, type DocLine, type DocSection, MARKS, plural, type StatusDoc, span, utc } from './doc.ts';
import { incidentDocLine, incidentLine, openIncidents, SEVERITIES, SEVERITY_MARKS } from './summary.ts';

/** The other answers of `/wi-status`, as documents (see doc.ts). Pure: `now` is given. */

export type HelpTopic = 'silence' | 'unsilence' | 'ksa' | 'plan';

const USAGE: { topic?: HelpTopic; usage: string; what: string }[] = [
  {
    usage: '',
    what: 'is Workload Identity healthy? Open incidents, and each cluster’s pools and WI workloads',
  },
  { usage: 'CLUSTER', what: 'one cluster in detail (NAME, or PROJECT/LOCATION/NAME)' },
  {
    topic: 'ksa',
    usage: 'NAMESPACE/KSA [--cluster CLUSTER]',
    what: 'every link of one KSA’s chain, checked live; the answer follows in a few seconds',
  },
  { usage: 'incidents', what: 'open incidents, active silences and planned changes' },
  {
    topic: 'silence',
    usage: 'silence TARGET DURATION REASON',
    what:
      'hold alerts back (allowed users only). TARGET: an incident id, a fingerprint, or matchers such as ' +
      'namespace=payments,kind=binding-missing (project, cluster, namespace, ksa, kind, fingerprint; a trailing * ' +
      'matches a prefix). DURATION: 30m, 4h, 2d, 1w (at most 30d)',
  },
  {
    topic: 'plan',
    usage: 'plan MATCHERS DURATION REASON',
    what:
      'declare a planned change (allowed users only): what it breaks is told here marked planned and pages ' +
      'nobody, unless pods start failing. MATCHERS as for silence, and actor=deployer@* (who made the change, ' +
      'or whom it acted for) and tool=terraform',
  },
  { topic: 'unsilence', usage: 'unsilence ID', what: 'end a silence or a plan early (allowed users only)' },
  { usage: 'public …', what: 'answer in the channel, not only to you' },
];

export function helpDoc(
  { problem, topic }: { problem?: string; topic?: HelpTopic } = {},
  { command = '/wi-status' }: { command?: string } = {},
): StatusDoc {
  const entries = topic
    ? [...USAGE.filter((u) => u.topic === topic), ...USAGE.filter((u) => u.topic !== topic)]
    : USAGE;
  const lines = entries.flatMap(({ usage, what }): DocLine[] => [
    { code: usage ? `${command} ${usage}` : command },
    { indent: true, text: what },
  ]);
  return {
    title: problem ? `${MARKS.info} ${problem}` : `${MARKS.info} ${command}: is Workload Identity healthy?`,
    sections: [problem ? { heading: 'What I answer', lines } : { lines }],
  };
}

function describeMatchers(matchers: SilenceMatchers): string {
  return Object.entries(matchers)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** Silences in force (plans are listed apart, see activePlans). */
export function activeSilences<T extends Silence>(silences: readonly T[], now: Date): T[] {
  return silences.filter((s) => s.effect !== 'plan' && Date.parse(s.expiresAt) > now.getTime());
}

/** Planned changes in force: declared with `plan`, stored beside the silences. */
function activePlans<T extends Silence>(silences: readonly T[], now: Date): T[] {
  return silences.filter((s) => s.effect === 'plan' && Date.parse(s.expiresAt) > now.getTime());
}

function silenceLines(silence: Silence, now: Date): DocLine[] {
  return [
    {
      mark: silence.effect === 'plan' ? MARKS.planned : MARKS.silenced,
      lead: silence.id,
      text: ` until ${utc(silence.expiresAt)} (${span(Date.parse(silence.expiresAt) - now.getTime())} left) · ${silence.author}: ${silence.reason}`,
    },
    { indent: true, code: describeMatchers(silence.matchers) },
  ];
}

/** What people did about an open incident (its message's buttons, PagerDuty), one indented line. */
function actLines(incident: Incident, now: Date): DocLine[] {
  const parts: string[] = [];
  const ack = incident.acknowledged;
  if (ack)
    parts.push(
      `acknowledged by ${ack.by}${ack.via === 'pagerduty' ? ' in PagerDuty' : ''} ${ago(ack.at, now)}`,
    );
  if (incident.silence)
    parts.push(
      `silenced by ${incident.silence.by} ${incident.silence.until ? `until ${utc(incident.silence.until)}` : 'until it resolves'}`,
    );
  if (incident.closedInPagerDuty)
    parts.push(`closed in PagerDuty by ${incident.closedInPagerDuty.by} (still broken at the last check)`);
  const recheck = incident.activity?.findLast((a) => a.type === 'rechecked');
  if (recheck)
    parts.push(`re-checked by ${recheck.by} ${ago(recheck.at, now)}: ${recheck.detail?.split(':')[0] ?? ''}`);
  const reassigned = incident.activity?.findLast((a) => a.type === 'reassigned');
  if (reassigned?.detail) parts.push(`reassigned in PagerDuty to ${reassigned.detail}`);
  return parts.length > 0 ? [{ indent: true, text: parts.join(' · ') }] : [];
}

/** `/wi-status incidents`: every open incident, with its id (what `silence` takes), and the silences. */
export function incidentsDoc(
  incidents: readonly Incident[],
  silences: readonly Silence[],
  now: Date,
  { command = '/wi-status', max = 20 }: { command?: string; max?: number } = {},
): StatusDoc {
  // What still alerts first; silenced incidents after, each group most severe and oldest first.
  const open = openIncidents(incidents).sort((a, b) => Number(!!a.silencedBy) - Number(!!b.silencedBy));
  const active = activeSilences(silences, now);
  const counts = SEVERITIES.map((s) => [s, open.filter((i) => i.severity === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  const worst = openIncidents(incidents)[0];
  const title =
    worst === undefined
      ? `${MARKS.healthy} No open incident`
      : `${SEVERITY_MARKS[worst.severity]} ${plural(open.length, 'open incident')} (${counts.join(', ')})`;
  const sections: DocSection[] = [];
  if (open.length > 0) {
    sections.push({
      heading: 'Open incidents',
      lines: open.slice(0, max).flatMap((incident) => {
        const line = incidentLine(incident);
        const silenced = line.silencedBy
          ? ` · silenced by ${line.silencedBy}`
          : line.plannedBy
            ? ` · planned (${line.plannedBy}): not paged`
            : '';
        return [
          incidentDocLine(line),
          { indent: true, text: `opened ${ago(line.openedAt, now)}${silenced} · id`, code: line.id },
          ...actLines(incident, now),
        ];
      }),
      more: { count: Math.max(0, open.length - max), what: 'incidents' },
    });
  }
  if (active.length > 0) {
    sections.push({
      heading: `Active silences (${active.length})`,
      lines: active.slice(0, max).flatMap((s) => silenceLines(s, now)),
      more: { count: Math.max(0, active.length - max), what: 'silences' },
    });
  }
  const plans = activePlans(silences, now);
  if (plans.length > 0) {
    sections.push({
      heading: `Planned changes (${plans.length})`,
      lines: plans.slice(0, max).flatMap((s) => silenceLines(s, now)),
      more: { count: Math.max(0, plans.length - max), what: 'planned changes' },
    });
  }
  return {
    title,
    sections,
    notes: [
      `\`${command} silence ID DURATION REASON\` holds one back · \`${command} plan MATCHERS DURATION REASON\` declares a planned change · \`${command} unsilence ID\` ends either`,
    ],
  };
}

/** The answer to `plan`: what it covers, and the open incidents it would have covered. */
export function plannedDoc(plan: Silence, covering: readonly Incident[], now: Date): StatusDoc {
  const open = openIncidents(covering);
  return {
    title: `${MARKS.planned} Planned for ${span(Date.parse(plan.expiresAt) - now.getTime())}, until ${utc(plan.expiresAt)}`,
    sections: [
      {
        lines: [
          { lead: 'Plan', text: ' ', code: plan.id },
          { lead: 'Covers', text: ' ', code: describeMatchers(plan.matchers) },
          { lead: 'Reason', text: `: ${plan.reason}` },
          { lead: 'By', text: `: ${plan.author}` },
          {
            mark: MARKS.info,
            text: 'What these changes break is told here marked planned and pages nobody, unless pods start failing.',
          },
        ],
      },
      ...(open.length > 0
        ? [
            {
              heading: `Already open, and not covered (${plural(open.length, 'incident')}): a plan covers what opens from now`,
              lines: open.slice(0, 5).map((i) => incidentDocLine(incidentLine(i))),
              more: { count: Math.max(0, open.length - 5), what: 'incidents' },
            },
          ]
        : []),
    ],
    notes: [`\`/wi-status unsilence ${plan.id}\` ends it early`],
  };
}

export function silencedDoc(silence: Silence, holding: readonly Incident[], now: Date): StatusDoc {
  const open = openIncidents(holding);
  return {
    title: `${MARKS.silenced} Silenced for ${span(Date.parse(silence.expiresAt) - now.getTime())}, until ${utc(silence.expiresAt)}`,
    sections: [
      {
        lines: [
          { lead: 'Silence', text: ' ', code: silence.id },
          { lead: 'Matches', text: ' ', code: describeMatchers(silence.matchers) },
          { lead: 'Reason', text: `: ${silence.reason}` },
          { lead: 'By', text: `: ${silence.author}` },
        ],
      },
      open.length > 0
        ? {
            heading: `It holds back ${plural(open.length, 'open incident')}`,
            lines: open.slice(0, 5).map((i) => incidentDocLine(incidentLine(i))),
            more: { count: Math.max(0, open.length - 5), what: 'incidents' },
          }
        : {
            lines: [
              { mark: MARKS.info, text: 'It matches no open incident now; it holds back what opens later.' },
            ],
          },
    ],
    notes: [`\`/wi-status unsilence ${silence.id}\` ends it early`],
  };
}

export function unsilencedDoc(id: string, removed: boolean): StatusDoc {
  return removed
    ? { title: `🔔 Silence ${id} ended: its incidents alert again`, sections: [] }
    : {
        title: `${MARKS.info} No silence ${id}`,
        sections: [],
        notes: ['`/wi-status incidents` lists the active silences'],
      };
}

/** Something we refuse or could not do, in one line and an optional detail. */
export function problemDoc(title: string, detail?: string, mark: string = MARKS.warning): StatusDoc {
  return { title: `${mark} ${title}`, sections: detail ? [{ lines: [{ text: detail }] }] : [] };
}

/** The acknowledgement of a deferred command, answered at once. */
export function checkingDoc(what: string): StatusDoc {
  return { title: `⏳ ${what}…`, sections: [] };
}
