import type { Request, Response } from '@google-cloud/functions-framework';
import type { Config } from '../shared/config.ts';
import type { Incident } from '../shared/domain/incident.ts';
import { StoreError } from '../shared/errors.ts';
import {
  type Act,
  type ActOutcome,
  acknowledge,
  closeInPagerDuty,
  reassign,
  unacknowledge,
} from '../shared/incidents/acts.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { Logger } from '../shared/log.ts';
import { actAndTell } from '../shared/notify/act.ts';
import { NotifyError } from '../shared/notify/errors.ts';
import {
  readWebhook,
  verifyPagerDutySignature,
  type WebhookEvent,
} from '../shared/notify/pagerduty-webhook.ts';
import type { Routing } from '../shared/notify/routing.ts';
import type { Senders } from '../shared/notify/types.ts';

/**
 * pagerdutyWebhook: PagerDuty's v3 webhook subscription (incident.acknowledged, .unacknowledged,
 * .resolved, .reassigned) keeps each incident's Slack message in step with PagerDuty. Every request
 * is verified (X-PagerDuty-Signature over the raw body) before anything parses it; every refusal is
 * the same `401 invalid request`, logged with its reason only. A resolve in PagerDuty is not a
 * repair: the incident stays open and its message says who closed it there; live state decides.
 *
 * Answers: 2xx when done or nothing is to be done (an event of another type, an incident wi-sentinel
 * does not know: PagerDuty would only send it again); 503 when the store or Slack failed in a way a
 * retry can cure, so PagerDuty redelivers it (https://developer.pagerduty.com/docs/webhooks/webhook-behavior).
 * The event's id is recorded with the incident, so a redelivery changes nothing.
 */
export interface PagerDutyWebhookDeps {
  /** Absent: every request is refused (and the reason logged). */
  secret: string | undefined;
  store: IncidentStore;
  senders: Senders;
  routing: Routing;
  logger: Logger;
}

type Answer = { status: number; body: string };

const REJECTED: Answer = { status: 401, body: 'invalid request' };

export function createPagerDutyWebhookHandler(deps: PagerDutyWebhookDeps) {
  let warnedUnconfigured = false;

  async function answer(req: Request): Promise<Answer> {
    if (req.method !== 'POST') return { status: 405, body: 'method not allowed' };
    if (deps.secret === undefined) {
      if (!warnedUnconfigured) {
        deps.logger.log(
          'ERROR',
          'pagerdutyWebhook: PAGERDUTY_WEBHOOK_SECRET is not set; every request is refused',
        );
        warnedUnconfigured = true;
      }
      // Nothing can be verified: refused as any unverified request is.
      return REJECTED;
    }
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    const signature = req.headers['x-pagerduty-signature'];
    const checked = verifyPagerDutySignature(
      deps.secret,
      Array.isArray(signature) ? signature.join(',') : signature,
      rawBody,
    );
    if (!checked.ok) {
      deps.logger.log('WARNING', 'pagerdutyWebhook: request rejected', {
        reason: checked.reason,
        ...(req.ip ? { ip: req.ip } : {}),
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 100),
      });
      return REJECTED;
    }
    const read = readWebhook(rawBody);
    if (read.outcome === 'unreadable') {
      deps.logger.log('WARNING', `pagerdutyWebhook: a signed request that is not an event: ${read.problem}`);
      return { status: 400, body: 'unsupported request' };
    }
    if (read.outcome === 'ignored') {
      deps.logger.log('INFO', `pagerdutyWebhook: ignored: ${read.reason}`);
      return { status: 202, body: 'ignored' };
    }
    return apply(read.event);
  }

  async function apply(event: WebhookEvent): Promise<Answer> {
    const fields = { event: event.id, type: event.type, pagerdutyIncident: event.incident.id };
    const incident = await deps.store.currentByDigest(event.incidentKey);
    if (incident === undefined) {
      deps.logger.log('INFO', 'pagerdutyWebhook: an incident wi-sentinel does not know; ignored', fields);
      return { status: 202, body: 'unknown incident' };
    }
    const act: Act = {
      key: `pagerduty:${event.id}`,
      by: event.agent,
      at: event.occurredAt,
      via: 'pagerduty',
    };
    const change = changeOf(event, act);
    const told = await actAndTell(deps, incident, change);
    for (const error of told.permanent)
      deps.logger.log('ERROR', `pagerdutyWebhook: notification failed permanently: ${error.message}`, fields);
    if (told.retryable.length > 0) throw told.retryable[0];
    deps.logger.log('INFO', `pagerdutyWebhook: ${event.type} ${told.result.outcome}`, {
      ...fields,
      incident: incident.id,
      ...(told.result.outcome === 'unchanged' ? { why: told.result.why } : {}),
    });
    return { status: 200, body: 'ok' };
  }

  return async (req: Request, res: Response): Promise<void> => {
    let result: Answer;
    try {
      result = await answer(req);
    } catch (error) {
      const retryable = (error instanceof NotifyError || error instanceof StoreError) && error.retryable;
      deps.logger.log(
        retryable ? 'WARNING' : 'ERROR',
        `pagerdutyWebhook: ${retryable ? 'will be retried' : 'failed'}: ${(error as Error).message}`,
      );
      // PagerDuty redelivers what is not answered 2xx; a bug it cannot cure is acknowledged.
      result = retryable ? { status: 503, body: 'try again later' } : { status: 200, body: 'logged' };
    }
    res.status(result.status).type('text/plain').send(result.body);
  };
}

function changeOf(event: WebhookEvent, act: Act): (current: Incident) => ActOutcome {
  switch (event.type) {
    case 'incident.acknowledged':
      return (current) => acknowledge(current, act);
    case 'incident.unacknowledged':
      return (current) => unacknowledge(current, act);
    case 'incident.resolved':
      return (current) => closeInPagerDuty(current, act);
    case 'incident.reassigned':
      return (current) => reassign(current, { ...act, detail: event.assignees.join(', ') || 'nobody named' });
  }
}

/** The handler as the environment configures it (functions/index.ts); loads no client library. */
export function pagerdutyWebhookFromConfig(
  config: Config,
  deps: Pick<PagerDutyWebhookDeps, 'store' | 'senders' | 'routing' | 'logger'>,
): ReturnType<typeof createPagerDutyWebhookHandler> {
  return createPagerDutyWebhookHandler({ ...deps, secret: config.PAGERDUTY_WEBHOOK_SECRET });
}
