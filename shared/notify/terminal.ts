import { describeActor } from '../domain/attribution.ts';
import { breachWords, type Incident } from '../domain/incident.ts';
import { evidenceSentence, kindWords, timelineOf } from './evidence-render.ts';
import { actionFor } from './pagerduty.ts';
import { actionsBlock } from './slack-render.ts';
import type { Delivery, DeliveryTransition, PagerDutySender, SlackSender } from './types.ts';

/**
 * Notifications shown in a terminal instead of sent: what `replay` and `demo` print when no Slack
 * token or PagerDuty key is configured. Rendering is pure; the senders only write lines.
 */
const MARK: Record<DeliveryTransition, string> = {
  opened: '🔴',
  updated: '🟠',
  resolved: '🟢',
  refreshed: '🔁',
};
const MAX_LIST = 6;

export function renderIncidentText(incident: Incident, transition: DeliveryTransition): string {
  const f = incident.finding;
  const lines = [`${MARK[transition]} ${incident.severity.toUpperCase()} ${incident.kind} · ${transition}`];
  if (transition === 'resolved') {
    lines.push(`   ${incident.resolution?.summary ?? 'resolved'}`);
    const who = incident.resolution?.cause;
    if (who?.actor) lines.push(`   who:   ${describeActor(who)} · ${who.time ?? ''} · ${who.method}`);
    return [...lines, ...evidenceLines(incident), buttonsLine(incident)].join('\n');
  }
  const ack = incident.acknowledged;
  if (ack)
    lines.push(
      `   ✋ acknowledged by ${ack.by}${ack.via === 'pagerduty' ? ' in PagerDuty' : ''} at ${ack.at}`,
    );
  if (incident.silence)
    lines.push(
      `   🔕 silenced by ${incident.silence.by} ${incident.silence.until ? `until ${incident.silence.until}` : 'until it resolves'}`,
    );
  if (incident.closedInPagerDuty)
    lines.push(
      `   🚪 closed in PagerDuty by ${incident.closedInPagerDuty.by}; the link was still broken at the last check`,
    );
  const latest = incident.transitions.at(-1);
  lines.push(`   ${transition === 'updated' && latest ? `${latest.summary} — ` : ''}${f.summary}`);
  if (f.cause)
    lines.push(
      `   who:   ${[describeActor(f.cause), f.cause.time, f.cause.method].filter(Boolean).join(' · ')}`,
    );
  const plan = incident.planned;
  if (plan)
    lines.push(
      `   plan:  ${plan.reason} (${plan.author})${plan.breach ? ` · ${breachWords(plan.breach)}: paged` : ' · not paged'}`,
    );
  const hits = [
    ...f.ksas.map((k) => `KSA ${k.namespace}/${k.name}`),
    ...(f.workloads ?? []).map(
      (w) =>
        `${w.kind} ${w.namespace}/${w.name} · ${w.cluster}${w.nodePool ? ` · pool ${w.nodePool}` : ''}${w.pods ? ` (${w.pods} pod${w.pods === 1 ? '' : 's'})` : ''}`,
    ),
  ];
  for (const [index, hit] of hits.slice(0, MAX_LIST).entries()) {
    lines.push(`   ${index === 0 ? 'hits: ' : '      '} ${hit}`);
  }
  if (hits.length > MAX_LIST) lines.push(`          … and ${hits.length - MAX_LIST} more`);
  if (f.remediationWarning) lines.push(`   ⚠️    ${f.remediationWarning}`);
  for (const [index, step] of (f.remediation ?? []).entries()) {
    const [first = '', ...rest] = step.command.split('\n');
    // Shell commands get a prompt; configuration (HCL, YAML, TypeScript) is shown under its title.
    if (step.language && step.language !== 'shell') {
      lines.push(`   ${index === 0 ? 'fix:  ' : '      '} # ${step.title}`);
      for (const line of [first, ...rest]) lines.push(`           ${line}`);
      continue;
    }
    lines.push(`   ${index === 0 ? 'fix:  ' : '      '} $ ${first}`);
    for (const line of rest) lines.push(`           ${line}`);
  }
  return [...lines, ...evidenceLines(incident), buttonsLine(incident)].join('\n');
}

/** The message's buttons as Slack shows them under it (the same actions block). */
function buttonsLine(incident: Incident): string {
  const labels = actionsBlock(incident).elements.map((element) =>
    element.type === 'button' ? `[ ${element.text.text} ]` : `[ ${element.placeholder.text} ▾ ]`,
  );
  return `   act:   ${labels.join(' ')}`;
}

/** `HH:MM:SS UTC`: a story's times read at a glance (the evidence's own are RFC 3339). */
function clock(iso: string): string {
  return `${iso.slice(11, 19)} UTC`;
}

/** What workloads feel (as Slack's message shows it): one sentence per group, then the timeline. */
function evidenceLines(incident: Incident): string[] {
  const evidence = incident.evidence ?? [];
  const lines = evidence
    .slice(0, MAX_LIST)
    .map(
      (e, index) =>
        `   ${index === 0 ? 'feel: ' : '      '} ${evidenceSentence(incident, e, clock)}${e.alert ? '' : ` — ${kindWords(e.kinds)}`}`,
    );
  for (const [index, t] of timelineOf(incident).entries()) {
    lines.push(`   ${index === 0 ? 'when: ' : '      '} ${clock(t.at)} ${t.label}: ${t.text}`);
  }
  return lines;
}

export function createTerminalSlack(write: (text: string) => void): SlackSender {
  let counter = 0;
  return {
    async reply(standing, message) {
      write(
        `\n[Slack] replies in the thread of ${standing.channel} ${standing.ts}\n   ${message.text.replace(/\n/g, '\n   ')}\n`,
      );
    },
    async send(channel: string, delivery: Delivery) {
      const verb = delivery.slack ? 'edits its message in' : 'posts to';
      write(`\n[Slack] ${verb} ${channel}\n${renderIncidentText(delivery.incident, delivery.transition)}\n`);
      counter += 1;
      return (
        delivery.slack ?? {
          channel,
          ts: `${Math.floor(Date.now() / 1000)}.${String(counter).padStart(6, '0')}`,
        }
      );
    },
  };
}

export function createTerminalPagerDuty(write: (text: string) => void): PagerDutySender {
  return {
    async send(_routingKey: string, delivery: Delivery) {
      const { incident } = delivery;
      const action = actionFor(delivery);
      if (action === undefined) return;
      write(
        `[PagerDuty] ${action} ${incident.severity} ${incident.kind}: ${incident.finding.summary.slice(0, 160)}\n`,
      );
    },
  };
}
