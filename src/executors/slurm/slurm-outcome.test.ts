import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { parseSqueue, parseSinfo } from './cli-slurm-client.js';
import {
  buildJobScript,
  parseSlurmComment,
  shellQuote,
  slurmComment,
  timeLimitMinutes,
} from './job-script.js';
import { gpuCount, type SlurmJobRecord } from './slurm-client.js';
import { decideOutcome, decodeWaitStatus, type OutcomeInput } from './slurm-outcome.js';

const rec = (state: string, extra: Partial<SlurmJobRecord> = {}): SlurmJobRecord => ({
  id: '7',
  name: 'ob-j-a1',
  comment: '',
  partition: 'main',
  state,
  reason: 'None',
  node: 'n1',
  ...extra,
});
const input = (o: Partial<OutcomeInput>): OutcomeInput => ({
  vanished: false,
  stopRequested: false,
  started: true,
  terminalForMs: 10_000,
  exitRecordForMs: 10_000,
  fallbackHost: 'main',
  ...o,
});

describe('Slurm state mapping (distributed.md A.5.2)', () => {
  it('decodes raw wait statuses', () => {
    expect(decodeWaitStatus(768)).toEqual({ exitCode: 3 });
    expect(decodeWaitStatus(9)).toEqual({ exitCode: 137, signal: 9 });
    expect(decodeWaitStatus(36608)).toEqual({ exitCode: 143 });
  });

  it.each([
    ['COMPLETED', {}, { kind: 'exited', exitCode: 0 }],
    ['FAILED', { exitStatus: 768 }, { kind: 'exited', exitCode: 3 }],
    [
      'FAILED',
      { exitStatus: 9, reason: 'JobLaunchFailure' },
      { kind: 'exited', exitCode: 137, signal: 'SIGKILL' },
    ],
    ['OUT_OF_MEMORY', {}, { kind: 'oomKilled', exitCode: 137 }],
    ['TIMEOUT', {}, { kind: 'exited', exitCode: 137, signal: 'SIGKILL' }],
    ['NODE_FAIL', {}, { kind: 'hostLost', host: 'n1' }],
    ['PREEMPTED', {}, { kind: 'hostLost', host: 'n1' }],
    ['BOOT_FAIL', {}, { kind: 'hostLost', host: 'n1' }],
    ['REQUEUED', {}, { kind: 'hostLost', host: 'n1' }],
    ['CANCELLED', {}, { kind: 'hostLost', host: 'n1' }],
  ] as const)('%s %o without an exit record → %o', (state, extra, expected) => {
    expect(decideOutcome(input({ slurm: rec(state, extra) }))).toMatchObject({
      kind: 'done',
      outcome: expected,
    });
  });

  it('FAILED launch without a signal and without a start is failedToStart', () => {
    const d = decideOutcome(
      input({ slurm: rec('FAILED', { exitStatus: 256, reason: 'JobLaunchFailure' }), started: false }),
    );
    expect(d).toMatchObject({
      kind: 'done',
      outcome: { kind: 'failedToStart', reason: 'CannotStartContainerError: Slurm launch failed' },
    });
  });

  it('prefers the shim exit record, but waits briefly for Slurm to explain a SIGKILL or a foreign TERM', () => {
    const killed = { v: 1, exitCode: 137, signal: 'SIGKILL', stoppedAt: 5 };
    expect(decideOutcome(input({ slurm: rec('RUNNING'), exitRecord: killed, exitRecordForMs: 100 }))).toEqual(
      { kind: 'wait' },
    );
    expect(decideOutcome(input({ slurm: rec('OUT_OF_MEMORY'), exitRecord: killed }))).toMatchObject({
      outcome: { kind: 'oomKilled', exitCode: 137 },
    });
    expect(
      decideOutcome(input({ slurm: rec('RUNNING'), exitRecord: killed, exitRecordForMs: 9000 })),
    ).toMatchObject({ outcome: { kind: 'exited', exitCode: 137 } });
    const termed = { v: 1, exitCode: 143, signal: 'SIGTERM', stopRequested: true };
    expect(decideOutcome(input({ slurm: rec('RUNNING'), exitRecord: termed, exitRecordForMs: 100 }))).toEqual(
      { kind: 'wait' },
    );
    expect(decideOutcome(input({ slurm: rec('CANCELLED'), exitRecord: termed }))).toMatchObject({
      outcome: { kind: 'hostLost' },
    });
    expect(
      decideOutcome(input({ slurm: rec('CANCELLED'), exitRecord: termed, stopRequested: true })),
    ).toMatchObject({ outcome: { kind: 'exited', exitCode: 143, signal: 'SIGTERM' } });
    expect(
      decideOutcome(input({ slurm: rec('RUNNING'), exitRecord: { v: 1, exitCode: 3 }, exitRecordForMs: 0 })),
    ).toMatchObject({ outcome: { kind: 'exited', exitCode: 3 } });
  });

  it('cancelled by openbatch before the shim started → hostLost (no exit code)', () => {
    expect(
      decideOutcome(input({ slurm: rec('CANCELLED'), stopRequested: true, started: false })),
    ).toMatchObject({ outcome: { kind: 'hostLost' } });
  });

  it('vanished records settle from the exit record, else hostLost; a fresh terminal state waits for the record', () => {
    expect(decideOutcome(input({ vanished: true, exitRecord: { v: 1, exitCode: 5 } }))).toMatchObject({
      outcome: { kind: 'exited', exitCode: 5 },
    });
    expect(decideOutcome(input({ vanished: true }))).toMatchObject({
      outcome: { kind: 'hostLost', host: 'main' },
    });
    expect(decideOutcome(input({ slurm: rec('COMPLETED'), terminalForMs: 100 }))).toEqual({ kind: 'wait' });
    expect(decideOutcome(input({ slurm: rec('PENDING') }))).toEqual({ kind: 'wait' });
  });
});

describe('job script', () => {
  it('quotes env and argv so that bash gets them back byte for byte', () => {
    const env = { A: 'a,b', B: 'it\'s "x" $HOME `id` \\', C: 'l1\nl2', 'ODD-NAME': 'v=1' };
    const argv = ['printf', '%s|', 'two words', "it's", '*', '$HOME'];
    const script = buildJobScript({
      environment: env,
      shimPath: '/s',
      attemptDir: '/d',
      timeoutSeconds: 0,
      killGraceSeconds: 30,
      command: argv,
    });
    const exports = script.replace(/^exec .*$/m, '');
    const r = spawnSync('bash', ['-c', `${exports}\nprintf "%s|" "$A" "$B" "$C"`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`a,b|it's "x" $HOME \`id\` \\|l1\nl2|`);
    expect(script).toContain(
      `exec env 'ODD-NAME=v=1' /bin/bash '/s' '/d' 0 30 -- 'printf' '%s|' 'two words' 'it'\\''s' '*' '$HOME'`,
    );
    expect(
      spawnSync('bash', ['-c', `printf "%s|" ${argv.slice(2).map(shellQuote).join(' ')}`], {
        encoding: 'utf8',
      }).stdout,
    ).toBe(`two words|it's|*|$HOME|`);
  });

  it('time limit backstop and comments', () => {
    expect(timeLimitMinutes(undefined)).toBeUndefined();
    expect(timeLimitMinutes(60)).toBe(3);
    expect(timeLimitMinutes(61)).toBe(4);
    expect(parseSlurmComment(slurmComment('job-1#2', 'ce-a', 'abc'))).toEqual({
      attemptKey: 'job-1#2',
      ce: 'ce-a',
      svc: 'abc',
    });
    expect(parseSlurmComment('something else')).toBeUndefined();
  });
});

describe('CLI output parsing', () => {
  it('parses fixed-width squeue and sinfo lines', () => {
    const pad = (s: string, n: number): string => s.padEnd(n);
    const line =
      pad('12', 24) +
      pad('main', 24) +
      pad('FAILED', 20) +
      pad('NonZeroExitCode', 40) +
      pad('768', 12) +
      pad('vm', 48) +
      pad('ob-x-a1', 128) +
      'openbatch:x#1 ce=c svc=s   ';
    expect(parseSqueue(`${line}\n`)).toEqual([
      {
        id: '12',
        partition: 'main',
        state: 'FAILED',
        reason: 'NonZeroExitCode',
        exitStatus: 768,
        node: 'vm',
        name: 'ob-x-a1',
        comment: 'openbatch:x#1 ce=c svc=s',
      },
    ]);
    const node =
      pad('vm', 64) +
      pad('mixed', 24) +
      pad('main*', 64) +
      pad('1/1/0/2', 32) +
      pad('16000', 16) +
      pad('1000', 16) +
      pad('gpu:2', 96) +
      'gpu:1(IDX:0)';
    expect(parseSinfo(node)).toEqual([
      {
        name: 'vm',
        state: 'mixed',
        partitions: ['main'],
        cpusTotal: 2,
        cpusIdle: 1,
        memoryMiB: 16000,
        allocMemoryMiB: 1000,
        gpus: 2,
        gpusUsed: 1,
      },
    ]);
    expect(gpuCount('gpu:a100:4(S:0-1),gpu:2')).toBe(6);
  });
});
