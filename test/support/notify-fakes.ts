import { after, before, beforeEach } from 'node:test';
import type { Logger } from '../../shared/log.ts';
import { createPagerDutySender } from '../../shared/notify/pagerduty.ts';
import { defaultRouting, type Routing } from '../../shared/notify/routing.ts';
import { createSlackSender } from '../../shared/notify/slack.ts';
import type { Senders } from '../../shared/notify/types.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';

/** Test secrets: they must never show in a log line or an error. */
export const SLACK_TOKEN = 'xoxb-1111-2222-secretsecretsecret';
export const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';

/**
 * Fake Slack and PagerDuty for one `describe`: started before its tests, emptied before each, stopped
 * after; `senders(logger)` are the real clients talking to them (short timeouts and backoff), and
 * `routing` sends everything to #wi-alerts and the test routing key.
 */
export interface NotifyFakes {
  slack: FakeSlack;
  pd: FakePagerDuty;
  senders(logger: Logger): Senders;
  routing: Routing;
}

export function useNotifyFakes(): NotifyFakes {
  const fakes = {
    routing: defaultRouting({ slackChannel: '#wi-alerts', pagerdutyRoutingKey: ROUTING_KEY }),
    senders(logger: Logger): Senders {
      return {
        slack: createSlackSender({
          token: SLACK_TOKEN,
          apiUrl: fakes.slack.url,
          timeoutMs: 500,
          backoffMs: 10,
          logger,
        }),
        pagerduty: createPagerDutySender({ url: fakes.pd.url, timeoutMs: 500, backoffMs: 10, logger }),
      };
    },
  } as NotifyFakes;
  before(async () => {
    fakes.slack = await startFakeSlack({ token: SLACK_TOKEN });
    fakes.pd = await startFakePagerDuty();
  });
  after(async () => {
    await fakes.slack.stop();
    await fakes.pd.stop();
  });
  beforeEach(() => {
    fakes.slack.calls.length = 0;
    fakes.slack.messages.length = 0;
    fakes.pd.events.length = 0;
  });
  return fakes;
}

/** Slack posts that are not thread replies: the messages people are paged with. */
export const posts = (slack: FakeSlack) =>
  slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.body.thread_ts);
export const edits = (slack: FakeSlack) => slack.calls.filter((c) => c.method === 'chat.update');
/** PagerDuty's event actions in order: trigger, resolve, … */
export const actions = (pd: FakePagerDuty) =>
  pd.events.map((e) => (e.body as { event_action: string }).event_action);
