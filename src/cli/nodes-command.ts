/**
 * @module cli/nodes-command
 * `openbatch nodes`: the members of an openbatch cluster (several servers on one PostgreSQL), as the
 * node behind the endpoint sees them in `/health`: live or not, which one leads the scheduler, how
 * many attempts each runs and when it last heartbeated.
 */
import type { Command } from './command.js';
import { ExitCode } from './errors.js';
import { statusText, table } from './format.js';

interface NodeRow {
  nodeId: string;
  url?: string;
  live: boolean;
  leader: boolean;
  heartbeatAgeMs: number;
  running?: number;
  accepting?: boolean;
}

interface HealthBody {
  nodeId?: string;
  store?: string;
  cluster?: { leader: string | null; nodes: NodeRow[] };
}

export const nodesCommand: Command = {
  name: 'nodes',
  summary: 'List the nodes of an openbatch cluster: live or not, the scheduler leader, running attempts.',
  usage: 'openbatch nodes',
  description: `Reads /health of the server behind --endpoint. A single-node server (SQLite) lists itself.`,
  flags: [],
  examples: ['openbatch nodes', 'openbatch nodes --endpoint http://node2:4566 --output json'],
  async run(ctx) {
    const base = ctx.endpoint ?? 'http://127.0.0.1:4566';
    if (base === 'aws') {
      ctx.note('openbatch nodes: AWS Batch has no nodes to list');
      return ExitCode.USAGE;
    }
    let body: HealthBody;
    try {
      const res = await fetch(new URL('/health', base), { signal: AbortSignal.timeout(10_000) });
      body = (await res.json()) as HealthBody;
    } catch (err) {
      ctx.note(`openbatch nodes: cannot reach ${base}: ${(err as Error).message}`);
      return ExitCode.API;
    }
    const nodes: NodeRow[] = body.cluster?.nodes ?? [
      { nodeId: body.nodeId ?? '?', url: base, live: true, leader: true, heartbeatAgeMs: 0 },
    ];
    if (ctx.output === 'json') {
      ctx.out(
        JSON.stringify(
          { leader: body.cluster ? body.cluster.leader : (body.nodeId ?? null), nodes },
          null,
          2,
        ) + '\n',
      );
      return ExitCode.OK;
    }
    const rows = nodes.map((n) => [
      n.nodeId,
      statusText(ctx.style, n.live ? (n.accepting === false ? 'FENCED' : 'LIVE') : 'DEAD'),
      n.leader ? 'leader' : '-',
      n.running === undefined ? '-' : String(n.running),
      `${(n.heartbeatAgeMs / 1000).toFixed(1)} s ago`,
      n.url ?? '-',
    ]);
    ctx.out(table(ctx.style, ['NODE', 'STATE', 'ROLE', 'RUNNING', 'HEARTBEAT', 'URL'], rows));
    if (body.cluster && !body.cluster.leader)
      ctx.note('no scheduler leader right now (election in progress?)');
    return ExitCode.OK;
  },
};
