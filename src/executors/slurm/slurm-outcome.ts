/**
 * @module executors/slurm/slurm-outcome
 * Slurm state + the shim's exit record → `ExitOutcome` (distributed.md §A.5.2). Pure functions.
 *
 * | Slurm                               | outcome                                                     |
 * |-------------------------------------|-------------------------------------------------------------|
 * | COMPLETED / FAILED                  | the shim's exit record; else exited (raw wait status)       |
 * | FAILED JobLaunchFailure, no signal  | failedToStart `CannotStartContainerError: Slurm launch failed` |
 * | OUT_OF_MEMORY                       | oomKilled 137                                               |
 * | TIMEOUT / DEADLINE                  | exited 137 SIGKILL (backstop; the engine's stop comes first) |
 * | CANCELLED, stop requested           | the shim's exit record; else 137 (started) / hostLost (never started) |
 * | CANCELLED not requested, NODE_FAIL, PREEMPTED, BOOT_FAIL, REQUEUED… | hostLost (node)     |
 * | record vanished                     | the shim's exit record; else hostLost                       |
 */
import type { ExitOutcome } from '../executor.js';
import { signalName } from '../exit-outcome.js';
import type { SlurmJobRecord } from './slurm-client.js';
import { TERMINAL_STATES } from './slurm-client.js';

/** What ob-shim writes to `exit.json`. */
export interface ShimExitRecord {
  v: number;
  exitCode: number;
  signal?: string | null;
  startedAt?: number;
  stoppedAt?: number;
  timedOut?: boolean;
  stopRequested?: boolean;
  killed?: boolean;
  failedToStart?: string;
  host?: string;
}

export function parseExitRecord(text: string): ShimExitRecord | undefined {
  try {
    const r = JSON.parse(text) as ShimExitRecord;
    return typeof r === 'object' && r !== null && typeof r.exitCode === 'number' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a raw wait(2) status as squeue `exit_code` and REST `exit_code` report it. */
export function decodeWaitStatus(raw: number): { exitCode: number; signal?: number } {
  const sig = raw & 0x7f;
  if (sig !== 0 && sig !== 0x7f) return { exitCode: 128 + sig, signal: sig };
  return { exitCode: (raw >> 8) & 0xff };
}

const HOST_LOST_STATES = new Set([
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'REVOKED',
  'SPECIAL_EXIT',
  'RESIZING',
]);

export function isTerminal(state: string): boolean {
  return TERMINAL_STATES.has(state) || HOST_LOST_STATES.has(state);
}

export interface OutcomeInput {
  /** Last record Slurm reported (undefined when never seen or vanished). */
  slurm?: SlurmJobRecord;
  /** The record is gone from Slurm (purged after MinJobAge, or the controller lost it). */
  vanished: boolean;
  exitRecord?: ShimExitRecord;
  /** openbatch asked to stop this attempt. */
  stopRequested: boolean;
  /** The shim's start marker was seen. */
  started: boolean;
  /** How long the Slurm record has been terminal without an exit record (ms). */
  terminalForMs: number;
  /** How long the exit record has been there without a terminal Slurm record (ms). */
  exitRecordForMs: number;
  /** Fallback host name (partition) when Slurm named no node. */
  fallbackHost: string;
}

export type Decision = { kind: 'wait' } | { kind: 'done'; outcome: ExitOutcome; at?: number };

/** How long to wait for the shim's record once Slurm says terminal (shared FS visibility). */
export const EXIT_RECORD_GRACE_MS = 2000;
/** How long a SIGKILLed payload waits for Slurm to say OUT_OF_MEMORY. */
export const OOM_VERDICT_WAIT_MS = 4000;

function fromExitRecord(r: ShimExitRecord): Decision {
  if (r.failedToStart !== undefined) {
    return {
      kind: 'done',
      outcome: {
        kind: 'failedToStart',
        reason: `CannotStartContainerError: ${r.failedToStart}`,
        exitCode: r.exitCode,
      },
    };
  }
  const outcome: ExitOutcome = { kind: 'exited', exitCode: r.exitCode };
  if (typeof r.signal === 'string' && r.signal !== '') outcome.signal = r.signal;
  if (r.startedAt !== undefined) outcome.startedAt = r.startedAt;
  if (r.stoppedAt !== undefined) outcome.stoppedAt = r.stoppedAt;
  return r.stoppedAt !== undefined ? { kind: 'done', outcome, at: r.stoppedAt } : { kind: 'done', outcome };
}

function hostLost(input: OutcomeInput, reason: string): Decision {
  return {
    kind: 'done',
    outcome: { kind: 'hostLost', host: input.slurm?.node || input.fallbackHost, reason },
  };
}

export function decideOutcome(input: OutcomeInput): Decision {
  const s = input.slurm;
  const rec = input.exitRecord;
  const state = input.vanished ? 'VANISHED' : (s?.state ?? 'UNKNOWN');
  const terminal = state === 'VANISHED' || isTerminal(state);

  if (rec?.failedToStart !== undefined) return fromExitRecord(rec);
  if (HOST_LOST_STATES.has(state))
    return hostLost(input, `Slurm job ${s?.id ?? ''} ended ${state}${s?.reason ? ` (${s.reason})` : ''}`);
  if (state === 'CANCELLED' && !input.stopRequested)
    return hostLost(input, `Slurm job ${s?.id ?? ''} was cancelled outside openbatch`);
  if (state === 'OUT_OF_MEMORY') {
    return {
      kind: 'done',
      outcome: {
        kind: 'oomKilled',
        exitCode: 137,
        ...(rec?.stoppedAt !== undefined ? { stoppedAt: rec.stoppedAt } : {}),
      },
    };
  }
  if (rec) {
    // A payload SIGKILLed by nobody we know of: give Slurm a moment to say OUT_OF_MEMORY.
    // A TERM openbatch did not send (an admin's scancel) is only classified by Slurm's CANCELLED.
    const unexplainedKill = rec.exitCode === 137 && !rec.stopRequested && !rec.killed && !rec.timedOut;
    const foreignStop = rec.stopRequested === true;
    if (
      !input.stopRequested &&
      (unexplainedKill || foreignStop) &&
      !terminal &&
      input.exitRecordForMs < OOM_VERDICT_WAIT_MS
    )
      return { kind: 'wait' };
    return fromExitRecord(rec);
  }
  if (!terminal) return { kind: 'wait' };
  if (state === 'TIMEOUT' || state === 'DEADLINE') {
    return { kind: 'done', outcome: { kind: 'exited', exitCode: 137, signal: 'SIGKILL' } };
  }
  if (input.terminalForMs < EXIT_RECORD_GRACE_MS) return { kind: 'wait' };
  if (state === 'VANISHED')
    return hostLost(input, 'the Slurm job record vanished and the job left no exit record');
  if (state === 'CANCELLED') {
    if (!input.started) return hostLost(input, 'cancelled before it started');
    return { kind: 'done', outcome: { kind: 'exited', exitCode: 137, signal: 'SIGKILL' } };
  }
  if (state === 'COMPLETED') return { kind: 'done', outcome: { kind: 'exited', exitCode: 0 } };
  if (state === 'FAILED') {
    const raw = s?.exitStatus;
    if (raw === undefined) return hostLost(input, 'Slurm reported FAILED without an exit status');
    const w = decodeWaitStatus(raw);
    if (w.signal !== undefined)
      return {
        kind: 'done',
        outcome: { kind: 'exited', exitCode: w.exitCode, signal: signalName(w.signal) },
      };
    if (!input.started && /launch/i.test(s?.reason ?? '')) {
      return {
        kind: 'done',
        outcome: { kind: 'failedToStart', reason: 'CannotStartContainerError: Slurm launch failed' },
      };
    }
    return { kind: 'done', outcome: { kind: 'exited', exitCode: w.exitCode } };
  }
  return hostLost(input, `Slurm job ended ${state}`);
}
