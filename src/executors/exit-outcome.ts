/**
 * @module executors/exit-outcome
 * Helpers shared by executors to turn what the OS reports into an `ExitOutcome`.
 * Conventions (Docker/ECS): killed by signal N → exit code 128+N (SIGKILL → 137, SIGTERM → 143);
 * exec failures → `CannotStartContainerError: …` with 127 (not found) or 126 (not executable).
 */
import { constants } from 'node:os';

import type { ExitOutcome } from './executor.js';

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) {
  if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name);
}

export function signalName(signo: number): string {
  return SIGNAL_NAMES.get(signo) ?? `SIG${signo}`;
}

export function signalNumber(name: string): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[name];
}

export interface WaitStatus {
  signaled: boolean;
  /** Exit code, or the signal number when `signaled`. */
  value: number;
}

export function exitCodeOf(status: WaitStatus): number {
  return status.signaled ? 128 + status.value : status.value;
}

/** An `exited` outcome from a wait status. */
export function exitedOutcome(status: WaitStatus, startedAt?: number, stoppedAt?: number): ExitOutcome {
  const outcome: ExitOutcome = { kind: 'exited', exitCode: exitCodeOf(status) };
  if (status.signaled) outcome.signal = signalName(status.value);
  if (startedAt !== undefined) outcome.startedAt = startedAt;
  if (stoppedAt !== undefined) outcome.stoppedAt = stoppedAt;
  return outcome;
}

/** The exit code a shell would give for an exec failure with this errno name. */
export function execFailureExitCode(errnoName: string): 126 | 127 {
  return errnoName === 'ENOENT' || errnoName === 'ENOTDIR' ? 127 : 126;
}

/** `failedToStart` for an exec failure, worded like Docker's error. */
export function cannotStartOutcome(detail: string, exitCode: number): ExitOutcome {
  return { kind: 'failedToStart', reason: `CannotStartContainerError: ${detail}`, exitCode };
}
