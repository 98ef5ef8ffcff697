import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSlackRequest } from '../../../shared/slack/command.ts';
import { readInteraction } from '../../../shared/slack/interaction.ts';
import { buttonPressBody } from '../../support/interaction.ts';

const URL = 'https://hooks.slack.com/actions/T0FAKETEAM/1/abc';
const read = (body: string) => readSlackRequest(Buffer.from(body), 'application/x-www-form-urlencoded');

describe('a button press (block_actions) read from the form Slack posts', () => {
  it('reads an acknowledge, who pressed it, and where the message stands', () => {
    const request = read(
      buttonPressBody({ action: 'ack', incidentId: '0123456789abcdef-mi2x' }, { responseUrl: URL }),
    );
    assert.equal(request.type, 'interaction');
    assert.deepEqual(request.type === 'interaction' ? request.interaction : undefined, {
      teamId: 'T0FAKETEAM',
      userId: 'U0ALICE',
      userName: 'alice',
      channelId: 'C0FAKE0001',
      messageTs: '1795000001.000001',
      responseUrl: URL,
      action: { kind: 'ack', incidentId: '0123456789abcdef-mi2x' },
    });
  });

  it('cleans a lone surrogate out of the user name, so the store can keep who pressed', () => {
    const request = read(
      buttonPressBody(
        { action: 'ack', incidentId: '0123456789abcdef-mi2x' },
        { responseUrl: URL, userName: 'al\ud800ice' },
      ),
    );
    assert.equal(request.type === 'interaction' ? request.interaction.userName : undefined, 'al\ufffdice');
  });

  it('reads a silence choice from the selected option: INCIDENT_ID/CHOICE', () => {
    const request = read(
      buttonPressBody(
        { action: 'silence', incidentId: '0123456789abcdef-mi2x', choice: 'resolved' },
        { responseUrl: URL },
      ),
    );
    assert.deepEqual(request.type === 'interaction' ? request.interaction.action : undefined, {
      kind: 'silence',
      incidentId: '0123456789abcdef-mi2x',
      choice: 'resolved',
    });
  });

  it('names what is wrong with anything else, never throws', () => {
    const problems = [
      'not json',
      JSON.stringify({ type: 'view_submission' }),
      JSON.stringify({ type: 'block_actions', team: { id: 'T1X' }, user: { id: 'U1X' } }),
      JSON.stringify({
        type: 'block_actions',
        team: { id: 'T1X' },
        user: { id: 'U1X' },
        response_url: URL,
        actions: [{ action_id: 'delete_everything', value: 'x' }],
      }),
      JSON.stringify({
        type: 'block_actions',
        team: { id: 'T1X' },
        user: { id: 'U1X' },
        response_url: URL,
        actions: [{ action_id: 'silence', selected_option: { value: 'abc/forever' } }],
      }),
      JSON.stringify({
        type: 'block_actions',
        team: { id: 'T1X' },
        user: { id: 'U1X' },
        response_url: URL,
        actions: [{ action_id: 'ack', value: '../../etc' }],
      }),
    ].map((payload) => readInteraction(payload));
    for (const read of problems) assert.equal(read.ok, false, JSON.stringify(read));
    assert.deepEqual(
      problems.map((p) => (p.ok ? '' : p.problem)),
      [
        'a payload that is not JSON',
        'an interaction of type "view_submission"',
        'a block_actions payload without team, user or response_url',
        'an action "delete_everything" that is not one of ours',
        'a silence choice that names no incident and duration of ours',
        'a ack button whose value is not an incident id',
      ],
    );
    const unreadable = read(new URLSearchParams({ payload: '{' }).toString());
    assert.deepEqual(unreadable, { type: 'unreadable', problem: 'a payload that is not JSON' });
  });
});
