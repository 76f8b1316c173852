/**
 * @module cluster/protocol
 * JSON messages between the leader's ClusterExecutor and the node agents
 * (`POST /openbatch/internal/v1/agent/<op>`), and the handle the engine stores for a remote attempt.
 */
import type { AttemptSpec, ExitOutcome } from '../executors/executor.js';

export const AGENT_PREFIX = '/openbatch/internal/v1/agent';

/** The leader's epoch: its lease term and when it was elected (database clock), to order leaders. */
export interface LeaderEpoch {
  term: string;
  electedAt: number;
  leader: string;
}

/** What the engine persists for an attempt run by a node agent. */
export interface RemoteHandle {
  [k: string]: unknown;
  executor: 'process';
  /** Node that runs (or will run) the attempt. */
  node: string;
  /** Boot id of that node's process when the attempt was placed: a restarted node has lost it. */
  boot: string;
  attemptKey: string;
}

/** AttemptSpec without the log sink (the agent writes to its own handle on the shared log store). */
export type WireSpec = Omit<AttemptSpec, 'log'> & { log: { group: string; stream: string } };

export interface StartRequest {
  epoch: LeaderEpoch;
  spec: WireSpec;
}

export interface StopRequest {
  epoch: LeaderEpoch;
  attemptKey: string;
  graceMs: number;
  reason?: string;
}

export interface RecoverRequest {
  epoch: LeaderEpoch;
  /** Every attempt this leader believes runs on the node. With `reconcile`, the agent kills any other. */
  attemptKeys: string[];
  reconcile: boolean;
}

export type AttemptState =
  | { state: 'running'; runningAt?: number }
  | { state: 'exited'; runningAt?: number; outcome: ExitOutcome; at: number }
  | { state: 'unknown' };

export interface RecoverResponse {
  attempts: Record<string, AttemptState>;
}

export type AgentEvent =
  | { type: 'running'; attemptKey: string; at: number; host?: string }
  | { type: 'exit'; attemptKey: string; at: number; outcome: ExitOutcome };

export interface EventsRequest {
  node: string;
  events: AgentEvent[];
}

/** Error answer of an agent or of the events endpoint. */
export interface AgentError {
  error: string;
  /** `stale-leader`: a newer leader has greeted this agent; `fenced`: the node lost its own lease; `not-leader`. */
  code: 'stale-leader' | 'fenced' | 'not-leader' | 'bad-request' | 'closed';
}
