import { createAlerting } from '../shared/alerting/alerting.ts';
import type { Config } from '../shared/config.ts';
import { LookupError, StoreError } from '../shared/errors.ts';
import type { LiveState } from '../shared/gcp/ports.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import type { Logger } from '../shared/log.ts';
import { NotifyError } from '../shared/notify/errors.ts';
import type { Routing } from '../shared/notify/routing.ts';
import type { Senders } from '../shared/notify/types.ts';
import { type Runners, runCommand, silenceRunners } from '../shared/slack/commands.ts';
import { decodeCommand, MAC_ATTRIBUTE } from '../shared/slack/deferred.ts';
import { incidentRunner } from '../shared/slack/incident-actions.ts';
import { ksaRunner } from '../shared/slack/ksa-check.ts';
import { createPermissionCheck, slackUsergroupMembers } from '../shared/slack/permission.ts';
import {
  createRespond,
  describeResponseUrl,
  isAllowedResponseUrl,
  type Respond,
} from '../shared/slack/respond.ts';
import { toSlackDoc } from '../shared/status/blocks.ts';
import type { StatusDoc } from '../shared/status/doc.ts';
import { statusSymptoms } from '../shared/status/symptoms.ts';
import { problemDoc } from '../shared/status/views.ts';

/**
 * wiCommands: runs the `/wi-status` commands wiStatus deferred (a KSA's live chain check, silence,
 * unsilence), delivered from the commands topic, and answers at the command's response_url.
 *
 * A message is run only when its MAC verifies with the signing secret, it parses, it is younger than
 * response_url's 30 minutes, and its response_url is Slack's (hooks.slack.com, /commands/): a forged
 * message can neither run a command nor make this function post anywhere. Such messages are logged
 * and acknowledged, never retried. A command is run and answered once: its id is recorded when the
 * answer is posted, so a redelivery posts nothing more. Only failures a retry can cure (the store,
 * Slack 5xx/429/timeouts) fail the invocation so Pub/Sub redelivers.
 */
export interface WiCommandsDeps {
  signingSecret: string | undefined;
  store: IncidentStore;
  runners: Runners;
  respond: Respond;
  responseOrigins?: readonly string[];
  logger: Logger;
  now?: () => Date;
}

interface PushedMessage {
  data?: string;
  attributes?: Record<string, string>;
  messageId?: string;
}

export function createWiCommandsHandler(deps: WiCommandsDeps) {
  const now = deps.now ?? (() => new Date());
  return async (event: unknown): Promise<void> => {
    const eventId = (event as { id?: unknown } | null)?.id;
    const log = { ...(typeof eventId === 'string' ? { eventId } : {}) };
    if (deps.signingSecret === undefined) {
      deps.logger.log('ERROR', 'wiCommands: SLACK_SIGNING_SECRET is not set; command dropped', log);
      return;
    }
    const message = (event as { data?: { message?: PushedMessage } } | null)?.data?.message;
    if (typeof message?.data !== 'string') {
      deps.logger.log('WARNING', 'wiCommands: not a Pub/Sub message; dropped', log);
      return;
    }
    const decoded = decodeCommand(
      Buffer.from(message.data, 'base64'),
      message.attributes?.[MAC_ATTRIBUTE],
      deps.signingSecret,
      now().getTime(),
    );
    if (!decoded.ok) {
      deps.logger.log('WARNING', `wiCommands: command refused (${decoded.reason}); dropped`, {
        ...log,
        reason: decoded.reason,
        ...(decoded.detail ? { detail: decoded.detail } : {}),
      });
      return;
    }
    const { command } = decoded;
    const where = describeResponseUrl(command.slack.responseUrl);
    const fields = { ...log, command: command.id, kind: command.task.kind, user: command.slack.userId };
    if (!isAllowedResponseUrl(command.slack.responseUrl, deps.responseOrigins)) {
      deps.logger.log('WARNING', 'wiCommands: response_url is not Slack’s; dropped', {
        ...fields,
        responseUrl: where,
      });
      return;
    }
    const key = `wi-command/${command.id}`;
    try {
      if (await deps.store.isProcessed(key)) {
        deps.logger.log('INFO', 'wiCommands: duplicate delivery acknowledged', fields);
        return;
      }
      const started = Date.now();
      let doc: StatusDoc | undefined;
      try {
        doc = await runCommand(deps.runners, { command, now: now() });
      } catch (error) {
        if (isRetryable(error)) throw error;
        // Permanent: tell the user rather than leave them with "checking…" forever.
        deps.logger.log(
          'ERROR',
          `wiCommands: ${command.task.kind} failed: ${(error as Error).message}`,
          fields,
        );
        doc = problemDoc('That failed', 'It is logged; try again in a minute.');
      }
      if (doc !== undefined) {
        await deps.respond(command.slack.responseUrl, {
          response_type: command.slack.responseType,
          replace_original: false,
          ...toSlackDoc(doc),
        });
      }
      await deps.store.markProcessed(key);
      deps.logger.log('INFO', `wiCommands: answered ${command.task.kind}`, {
        ...fields,
        ms: Date.now() - started,
      });
    } catch (error) {
      if (isRetryable(error)) {
        deps.logger.log('WARNING', `wiCommands: will be retried: ${(error as Error).message}`, fields);
        throw error;
      }
      deps.logger.log(
        'ERROR',
        `wiCommands: dropped after a permanent failure: ${(error as Error).message}`,
        fields,
      );
    }
  };
}

function isRetryable(error: unknown): boolean {
  return (
    (error instanceof NotifyError || error instanceof StoreError || error instanceof LookupError) &&
    error.retryable
  );
}

/**
 * The handler as the environment configures it (functions/index.ts); loads no client library.
 * `live` answers the KSA check: the simulated organization under WI_SNAPSHOT, Google's APIs otherwise.
 */
export function wiCommandsFromConfig(
  config: Config,
  deps: {
    store: IncidentStore;
    inventory: () => Promise<Snapshot | undefined>;
    live: LiveState;
    simulated: boolean;
    logger: Logger;
    /** The incident buttons edit messages and tell PagerDuty as the event path does. */
    senders: Senders;
    routing: Routing;
  },
): ReturnType<typeof createWiCommandsHandler> {
  const { store, inventory, live, logger } = deps;
  const source = deps.simulated ? 'the simulated organization (WI_SNAPSHOT)' : 'live state';
  const alerting = createAlerting({ store, senders: deps.senders, routing: deps.routing, logger, live });
  const members = config.SLACK_BOT_TOKEN
    ? slackUsergroupMembers({ token: config.SLACK_BOT_TOKEN, apiUrl: config.SLACK_API_URL, logger })
    : undefined;
  const permission = createPermissionCheck(
    {
      users: config.SLACK_ALLOWED_USERS ?? [],
      ...(config.SLACK_ALLOWED_USERGROUP ? { usergroup: config.SLACK_ALLOWED_USERGROUP } : {}),
    },
    members,
  );
  const projects = async () =>
    config.WI_PROJECTS ??
    (config.GOOGLE_CLOUD_PROJECT
      ? [config.GOOGLE_CLOUD_PROJECT]
      : ((await inventory())?.projects.map((p) => p.projectId) ?? []));
  return createWiCommandsHandler({
    signingSecret: config.SLACK_SIGNING_SECRET,
    store,
    runners: {
      ...silenceRunners({ store, permission }),
      incident: incidentRunner({
        store,
        permission,
        tell: { senders: deps.senders, routing: deps.routing },
        applyFindings: (findings, key) => alerting.applyFindings(findings, key),
        live,
        inventory,
        source,
        logger,
      }),
      ksa: ksaRunner({
        live,
        projects,
        inventory,
        source,
        symptoms: async () => {
          const now = new Date();
          return statusSymptoms(await store.listSymptomGroups({ activeAt: now.toISOString() }), now);
        },
      }),
    },
    respond: createRespond({ logger }),
    responseOrigins: config.SLACK_RESPONSE_URL_ORIGINS ?? [],
    logger,
  });
}
