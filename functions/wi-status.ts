import type { Request, Response } from '@google-cloud/functions-framework';
import type { Config } from '../shared/config.ts';
import { tokenSourceFromConfig } from '../shared/gcp/auth.ts';
import type { IncidentStore } from '../shared/incidents/store.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import type { Logger } from '../shared/log.ts';
import {
  type ParsedText,
  parseCommandText,
  readSlackRequest,
  type SlashCommand,
} from '../shared/slack/command.ts';
import { type DeferredCommand, type DeferredTask, encodeCommand } from '../shared/slack/deferred.ts';
import type { Interaction } from '../shared/slack/interaction.ts';
import { decideLocally, type SilencePolicy } from '../shared/slack/permission.ts';
import { createCommandPublisher, type PublishCommand } from '../shared/slack/publish.ts';
import { describeResponseUrl, isAllowedResponseUrl } from '../shared/slack/respond.ts';
import { MAX_BODY_BYTES, rememberUntil, requestIdOf, verifySlackRequest } from '../shared/slack/verify.ts';
import { toSlackDoc } from '../shared/status/blocks.ts';
import { clusterDetail, clusterDoc, clusterNotFoundDoc, findClusters } from '../shared/status/cluster.ts';
import type { StatusDoc } from '../shared/status/doc.ts';
import { summarize, summaryDoc } from '../shared/status/summary.ts';
import { statusSymptoms } from '../shared/status/symptoms.ts';
import { checkingDoc, helpDoc, incidentsDoc, problemDoc } from '../shared/status/views.ts';

/**
 * wiStatus: the `/wi-status` slash command. Verifies Slack's signature on the raw body, then answers
 * from stored state (open incidents, the last inventory) well within Slack's 3 seconds; a command that
 * needs live state or a permission check against Slack (a KSA's chain, silence, unsilence) is
 * acknowledged at once and published to the commands topic for wiCommands, which answers at
 * `response_url`. Every rejection gets the same short answer (401 `invalid request`), and is logged
 * with its reason only: never the signature, the secret or the response_url.
 */
export interface WiStatusDeps {
  /** Absent: every request is refused (and the reason logged), never answered unverified. */
  signingSecret: string | undefined;
  store: IncidentStore;
  /** The last inventory (WI_SNAPSHOT today; a stored last-known inventory later). */
  inventory: () => Promise<Snapshot | undefined>;
  publish: PublishCommand;
  silencePolicy: SilencePolicy;
  /** Origins besides Slack's that response_url may name (tests only). */
  responseOrigins?: readonly string[];
  logger: Logger;
  now?: () => Date;
  /** How long stored state may take before the answer says it is unavailable (Slack waits 3 s in all). */
  stateBudgetMs?: number;
}

type Answer = { status: number; body: string | Record<string, unknown>; headers?: Record<string, string> };

/** Who asked, and where the answer goes: a slash command's or an interaction's fields. */
type Requester = Pick<SlashCommand, 'teamId' | 'userId' | 'userName' | 'channelId' | 'responseUrl'> & {
  messageTs?: string;
  responseType: ParsedText['visibility'];
};

const REJECTED: Answer = { status: 401, body: 'invalid request' };

export function createWiStatusHandler(deps: WiStatusDeps) {
  const now = deps.now ?? (() => new Date());
  const budget = deps.stateBudgetMs ?? 2_000;
  let warnedUnconfigured = false;

  async function answer(req: Request): Promise<Answer> {
    if (req.method !== 'POST') return { status: 405, body: 'method not allowed', headers: { allow: 'POST' } };
    if (deps.signingSecret === undefined) {
      if (!warnedUnconfigured) {
        deps.logger.log('ERROR', 'wiStatus: SLACK_SIGNING_SECRET is not set; every request is refused');
        warnedUnconfigured = true;
      }
      return { status: 503, body: 'unavailable' };
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    if (declared > MAX_BODY_BYTES || rawBody.byteLength > MAX_BODY_BYTES) {
      reject('body-too-large', req);
      return { status: 413, body: 'request too large' };
    }
    const timestamp = header(req, 'x-slack-request-timestamp');
    const signature = header(req, 'x-slack-signature');
    const verified = verifySlackRequest(
      deps.signingSecret,
      { timestamp, signature, rawBody },
      now().getTime(),
    );
    if (!verified.ok || timestamp === undefined || signature === undefined) {
      reject(verified.ok ? 'missing-signature' : verified.reason, req);
      return REJECTED;
    }
    // Verified means signed by Slack within the window, not sent once: the same request again
    // (a replay) is refused as any other rejection is.
    const requestId = requestIdOf(signature);
    if (!(await firstTime(requestId, timestamp))) {
      reject('replayed', req);
      return REJECTED;
    }
    const request = readSlackRequest(rawBody, header(req, 'content-type'));
    switch (request.type) {
      case 'ssl-check':
        return { status: 200, body: '' };
      case 'url-verification':
        return { status: 200, body: { challenge: request.challenge } };
      case 'unreadable':
        deps.logger.log(
          'WARNING',
          `wiStatus: a signed request that is not a slash command: ${request.problem}`,
        );
        return { status: 400, body: 'unsupported request' };
      case 'interaction':
        return interact(request.interaction, requestId);
    }
    const command = request.command;
    const parsed = parseCommandText(command.text);
    const started = Date.now();
    const doc = await reply(command, parsed, requestId);
    deps.logger.log('INFO', `wiStatus: answered ${parsed.request.kind}`, {
      subcommand: parsed.request.kind,
      visibility: parsed.visibility,
      team: command.teamId,
      user: command.userId,
      ms: Date.now() - started,
    });
    const deferred = doc.deferred === true;
    const message = toSlackDoc(doc.doc);
    return {
      status: 200,
      // The acknowledgement of a deferred command is for the asker only; its answer follows as asked.
      body: { response_type: deferred ? 'ephemeral' : parsed.visibility, ...message },
    };
  }

  /**
   * A button of an incident's message: every action is deferred to wiCommands (it edits the message,
   * tells PagerDuty, checks live state and the silence permission, and answers the user ephemerally
   * at response_url); Slack only needs a 200 within 3 seconds
   * (https://docs.slack.dev/interactivity/handling-user-interaction#acknowledgment_response).
   */
  async function interact(interaction: Interaction, requestId: string): Promise<Answer> {
    const { action } = interaction;
    const started = Date.now();
    const outcome = await defer(
      { ...interaction, responseType: 'ephemeral' },
      requestId,
      {
        kind: 'incident',
        action: action.kind,
        incidentId: action.incidentId,
        ...(action.kind === 'silence' ? { choice: action.choice } : {}),
      },
      `${action.kind} ${action.incidentId}`,
    );
    deps.logger.log('INFO', `wiStatus: interaction ${action.kind}`, {
      action: action.kind,
      incident: action.incidentId,
      team: interaction.teamId,
      user: interaction.userId,
      deferred: outcome.deferred,
      ms: Date.now() - started,
    });
    return { status: 200, body: '' };
  }

  function reject(reason: string, req: Request) {
    deps.logger.log('WARNING', 'wiStatus: request rejected', {
      reason,
      ...(req.ip ? { ip: req.ip } : {}),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 100),
    });
  }

  /** A read of stored state, or why it is not available in time (never "all healthy" by default). */
  async function within<T>(
    what: string,
    read: () => Promise<T>,
  ): Promise<{ ok: true; value: T } | { ok: false; why: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: false; why: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, why: `${what} did not answer within ${budget} ms` }),
        budget,
      );
    });
    try {
      return await Promise.race([
        read().then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => {
            deps.logger.log('ERROR', `wiStatus: reading ${what} failed: ${(error as Error).message}`);
            return { ok: false as const, why: `${what} could not be read` };
          },
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The workloads' credential failures still active (symptom groups), within the same budget. */
  function symptoms() {
    return within('the credential-failure store', async () => {
      const at = now();
      return statusSymptoms(await deps.store.listSymptomGroups({ activeAt: at.toISOString() }), at);
    });
  }

  /**
   * Whether this request is taken for the first time (remembered in the store for as long as its
   * signature could verify). A store that does not answer in time does not block the command: what
   * acts is deferred under the request's own id, and wiCommands runs each id once.
   */
  async function firstTime(requestId: string, timestamp: string): Promise<boolean> {
    const taken = await within('the request store', () =>
      deps.store.rememberRequest(`slack-request/${requestId}`, rememberUntil(timestamp).toISOString()),
    );
    if (taken.ok) return taken.value;
    deps.logger.log('WARNING', `wiStatus: replay protection unavailable for this request: ${taken.why}`);
    return true;
  }

  async function reply(
    command: SlashCommand,
    { request, visibility }: ParsedText,
    requestId: string,
  ): Promise<{ doc: StatusDoc; deferred?: boolean }> {
    switch (request.kind) {
      case 'help':
        return { doc: helpDoc(request) };
      case 'summary': {
        const [incidents, inventory, felt] = await Promise.all([
          within('the incident store', () => deps.store.listOpen()),
          within('the inventory', deps.inventory),
          symptoms(),
        ]);
        const summary = summarize(
          incidents.ok ? incidents.value : [],
          inventory.ok ? inventory.value : undefined,
          felt.ok ? felt.value : undefined,
        );
        return {
          doc: summaryDoc(summary, {
            ...(incidents.ok ? {} : { incidentsUnavailable: incidents.why }),
            ...(inventory.ok ? {} : { inventoryUnavailable: inventory.why }),
            ...(felt.ok ? {} : { symptomsUnavailable: felt.why }),
          }),
        };
      }
      case 'cluster': {
        const inventory = await within('the inventory', deps.inventory);
        if (!inventory.ok)
          return {
            doc: problemDoc(`Cluster details unavailable: ${inventory.why}`, 'Try again in a minute.'),
          };
        const snapshot = inventory.value;
        const lookup = findClusters(snapshot, request.cluster);
        if (lookup.found !== 'one' || snapshot === undefined)
          return {
            doc: clusterNotFoundDoc(
              request.cluster,
              lookup.found === 'one' ? { found: 'none' } : lookup,
              snapshot,
            ),
          };
        const [incidents, felt] = await Promise.all([
          within('the incident store', () => deps.store.listOpen()),
          symptoms(),
        ]);
        const doc = clusterDoc(
          clusterDetail(
            snapshot,
            lookup.match,
            incidents.ok ? incidents.value : [],
            felt.ok ? felt.value : undefined,
          ),
        );
        if (!felt.ok) doc.notes = [`⚠️ Credential failures not shown: ${felt.why}.`, ...(doc.notes ?? [])];
        if (!incidents.ok) doc.notes = [`⚠️ Incidents not shown: ${incidents.why}.`, ...(doc.notes ?? [])];
        return { doc };
      }
      case 'incidents': {
        const state = await within('the incident store', () =>
          Promise.all([deps.store.listOpen(), deps.store.listSilences()]),
        );
        if (!state.ok)
          return { doc: problemDoc(`Incidents unavailable: ${state.why}`, 'Try again in a minute.') };
        return { doc: incidentsDoc(state.value[0], state.value[1], now()) };
      }
      case 'ksa':
        return defer(
          { ...command, responseType: visibility },
          requestId,
          {
            kind: 'ksa',
            namespace: request.namespace,
            name: request.name,
            ...(request.cluster ? { cluster: request.cluster } : {}),
          },
          `Checking ${request.namespace}/${request.name}${request.cluster ? ` in ${request.cluster}` : ''} live`,
        );
      case 'silence': {
        const local = decideLocally(deps.silencePolicy, command.userId);
        if (local !== undefined && !local.allowed)
          return { doc: problemDoc('You may not silence', local.why, '⛔') };
        return defer(
          { ...command, responseType: visibility },
          requestId,
          { kind: 'silence', target: request.target, durationMs: request.durationMs, reason: request.reason },
          `Silencing for ${request.duration}`,
        );
      }
      case 'plan': {
        const local = decideLocally(deps.silencePolicy, command.userId);
        if (local !== undefined && !local.allowed)
          return { doc: problemDoc('You may not declare a planned change', local.why, '⛔') };
        return defer(
          { ...command, responseType: visibility },
          requestId,
          {
            kind: 'plan',
            matchers: request.matchers,
            durationMs: request.durationMs,
            reason: request.reason,
          },
          `Declaring a planned change for ${request.duration}`,
        );
      }
      case 'unsilence': {
        const local = decideLocally(deps.silencePolicy, command.userId);
        if (local !== undefined && !local.allowed)
          return { doc: problemDoc('You may not unsilence', local.why, '⛔') };
        return defer(
          { ...command, responseType: visibility },
          requestId,
          { kind: 'unsilence', id: request.id },
          `Ending silence ${request.id}`,
        );
      }
    }
  }

  async function defer(
    command: Requester,
    requestId: string,
    task: DeferredTask,
    doing: string,
  ): Promise<{ doc: StatusDoc; deferred: boolean }> {
    if (!isAllowedResponseUrl(command.responseUrl, deps.responseOrigins)) {
      deps.logger.log('WARNING', 'wiStatus: a response_url that is not Slack’s; not deferring', {
        responseUrl: describeResponseUrl(command.responseUrl),
      });
      return {
        doc: problemDoc('I cannot answer this command later here', 'Its response_url is not Slack’s.'),
        deferred: false,
      };
    }
    const deferred: DeferredCommand = {
      v: 1,
      // The request's own id: a command is run once per request, however often it is sent.
      id: `r-${requestId}`,
      requestedAt: now().toISOString(),
      task,
      slack: {
        teamId: command.teamId,
        userId: command.userId,
        ...(command.userName ? { userName: command.userName } : {}),
        ...(command.channelId ? { channelId: command.channelId } : {}),
        ...(command.messageTs ? { messageTs: command.messageTs } : {}),
        responseUrl: command.responseUrl,
        responseType: command.responseType,
      },
    };
    try {
      await deps.publish(encodeCommand(deferred, deps.signingSecret as string));
    } catch (error) {
      deps.logger.log(
        'ERROR',
        `wiStatus: publishing a ${task.kind} command failed: ${(error as Error).message}`,
        { command: deferred.id },
      );
      return {
        doc: problemDoc(
          'I could not start that',
          'The command queue did not take it; try again in a minute.',
        ),
        deferred: false,
      };
    }
    deps.logger.log('INFO', `wiStatus: deferred ${task.kind}`, { command: deferred.id });
    return { doc: checkingDoc(doing), deferred: true };
  }

  return async (req: Request, res: Response): Promise<void> => {
    let result: Answer;
    try {
      result = await answer(req);
    } catch (error) {
      // A bug, not a user's mistake: say little to Slack, everything to the log.
      deps.logger.log('ERROR', `wiStatus: ${(error as Error).stack ?? String(error)}`);
      result = {
        status: 200,
        body: {
          response_type: 'ephemeral',
          ...toSlackDoc(
            problemDoc('Something went wrong on my side', 'It is logged; try again in a minute.'),
          ),
        },
      };
    }
    res.status(result.status);
    for (const [name, value] of Object.entries(result.headers ?? {})) res.set(name, value);
    if (typeof result.body === 'string') res.type('text/plain').send(result.body);
    else res.json(result.body);
  };
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The handler as the environment configures it (functions/index.ts); loads no client library. */
export function wiStatusFromConfig(
  config: Config,
  deps: Pick<WiStatusDeps, 'store' | 'inventory' | 'logger'>,
): ReturnType<typeof createWiStatusHandler> {
  return createWiStatusHandler({
    ...deps,
    signingSecret: config.SLACK_SIGNING_SECRET,
    publish: createCommandPublisher({
      topic: config.WI_COMMANDS_TOPIC,
      projectId: config.GOOGLE_CLOUD_PROJECT,
      tokens: tokenSourceFromConfig(config),
      apiUrl: config.PUBSUB_API_URL,
      ...(config.PUBSUB_EMULATOR_HOST ? { emulatorHost: config.PUBSUB_EMULATOR_HOST } : {}),
    }),
    silencePolicy: {
      users: config.SLACK_ALLOWED_USERS ?? [],
      ...(config.SLACK_ALLOWED_USERGROUP ? { usergroup: config.SLACK_ALLOWED_USERGROUP } : {}),
    },
    responseOrigins: config.SLACK_RESPONSE_URL_ORIGINS ?? [],
  });
}
