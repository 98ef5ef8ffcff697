import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.ts';
import { classifySlackError } from '../notify/slack.ts';

/**
 * Who may silence and unsilence from Slack: the users listed in SLACK_ALLOWED_USERS and the members
 * of the SLACK_ALLOWED_USERGROUP user group. Nobody when neither is configured: holding back pages
 * is a decision someone has to grant.
 */
export interface SilencePolicy {
  users: readonly string[];
  usergroup?: string;
}

export type Decision = { allowed: true; via: string } | { allowed: false; why: string };

/**
 * What can be decided without asking Slack: listed users are allowed, and with no group everyone
 * else is refused; otherwise the group's members must be fetched (`undefined`).
 */
export function decideLocally(policy: SilencePolicy, userId: string): Decision | undefined {
  if (policy.users.includes(userId)) return { allowed: true, via: 'SLACK_ALLOWED_USERS' };
  if (policy.usergroup !== undefined) return undefined;
  return {
    allowed: false,
    why:
      policy.users.length === 0
        ? 'silencing from Slack is not enabled here (SLACK_ALLOWED_USERS or SLACK_ALLOWED_USERGROUP)'
        : 'you are not among the users allowed to silence',
  };
}

/** The members of a user group (usergroups.users.list). */
export type UsergroupMembers = (usergroup: string) => Promise<readonly string[]>;

/** The full decision: the local one, else membership of the group (cached briefly). */
export function createPermissionCheck(
  policy: SilencePolicy,
  members: UsergroupMembers | undefined,
  { cacheMs = 60_000, now = Date.now }: { cacheMs?: number; now?: () => number } = {},
): (userId: string) => Promise<Decision> {
  let cached: { at: number; users: readonly string[] } | undefined;
  return async (userId) => {
    const local = decideLocally(policy, userId);
    if (local !== undefined) return local;
    const group = policy.usergroup as string;
    if (members === undefined)
      return { allowed: false, why: 'the allowed user group cannot be read: SLACK_BOT_TOKEN is not set' };
    if (cached === undefined || now() - cached.at > cacheMs) {
      try {
        cached = { at: now(), users: await members(group) };
      } catch (error) {
        return {
          allowed: false,
          why: `the allowed user group could not be read (${(error as Error).message})`,
        };
      }
    }
    return cached.users.includes(userId)
      ? { allowed: true, via: `user group ${group}` }
      : { allowed: false, why: `you are not in the user group allowed to silence (${group})` };
  };
}

/**
 * usergroups.users.list through @slack/web-api (loaded on first use), one bounded request: this
 * runs while a user waits. Needs the `usergroups:read` scope. Errors name Slack's code, never the token.
 * https://docs.slack.dev/reference/methods/usergroups.users.list
 */
export function slackUsergroupMembers({
  token,
  apiUrl,
  timeoutMs = 3_000,
  logger,
}: {
  token: string;
  apiUrl: string;
  timeoutMs?: number;
  logger?: Logger;
}): UsergroupMembers {
  let client: Promise<WebClient> | undefined;
  return async (usergroup) => {
    client ??= import('@slack/web-api').then(
      ({ WebClient }) =>
        new WebClient(token, {
          slackApiUrl: apiUrl,
          timeout: timeoutMs,
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          logger: silentLogger(),
        }),
    );
    try {
      const result = await (await client).usergroups.users.list({ usergroup });
      return (result.users ?? []).filter((user): user is string => typeof user === 'string');
    } catch (error) {
      const failure = classifySlackError(error);
      logger?.log('WARNING', `slack: usergroups.users.list failed (${failure.code})`, { usergroup });
      throw new Error(`usergroups.users.list: ${failure.code}`);
    }
  };
}

function silentLogger() {
  const nothing = () => {};
  return {
    debug: nothing,
    info: nothing,
    warn: nothing,
    error: nothing,
    setLevel: nothing,
    getLevel: () => 'error' as never,
    setName: nothing,
  };
}
