/**
 * @module cli/commands/resources
 * `openbatch queues` and `openbatch envs`: job queues and compute environments at a glance.
 */
import type { Command } from '../command.js';
import { loadCatalog } from '../cost-data.js';
import { ExitCode } from '../errors.js';
import { statusText, table } from '../format.js';
import { shortName } from '../job-info.js';

export const queuesCommand: Command = {
  name: 'queues',
  summary: 'List job queues: state, status, priority, compute environments and job counts.',
  usage: 'openbatch queues',
  flags: [
    { name: 'no-counts', type: 'boolean', help: 'skip the RUNNABLE/RUNNING job counts (fewer API calls)' },
  ],
  examples: ['openbatch queues', 'openbatch queues --output json'],
  async run(ctx, f) {
    const client = ctx.client();
    const { queues } = await loadCatalog(client);
    if (ctx.output === 'json') {
      ctx.out(JSON.stringify(queues, null, 2) + '\n');
      return ExitCode.OK;
    }
    const rows: string[][] = [];
    for (const q of queues) {
      let counts = '-';
      if (!f.bool('no-counts')) {
        const n: number[] = [];
        for (const s of ['RUNNABLE', 'RUNNING'] as const)
          n.push((await client.listJobs({ jobQueue: q.jobQueueName!, jobStatus: s })).length);
        counts = `${n[0]} / ${n[1]}`;
      }
      rows.push([
        q.jobQueueName ?? '-',
        statusText(ctx.style, q.state),
        statusText(ctx.style, q.status),
        String(q.priority ?? '-'),
        [...(q.computeEnvironmentOrder ?? [])]
          .sort((a, b) => (a.order ?? 0) - (b.order ?? 0))
          .map((o) => `${o.order}:${shortName(o.computeEnvironment)}`)
          .join(', ') || '-',
        q.schedulingPolicyArn ? shortName(q.schedulingPolicyArn) : '-',
        counts,
      ]);
    }
    ctx.out(
      rows.length
        ? table(
            ctx.style,
            [
              'NAME',
              'STATE',
              'STATUS',
              'PRIORITY',
              'ENVIRONMENTS',
              'SCHEDULING POLICY',
              'RUNNABLE / RUNNING',
            ],
            rows,
          )
        : 'No job queues.\n',
    );
    return ExitCode.OK;
  },
};

export const envsCommand: Command = {
  name: 'envs',
  aliases: ['compute-environments'],
  summary: 'List compute environments: type, provisioning, state, status, vCPUs and instance types.',
  usage: 'openbatch envs',
  flags: [],
  examples: ['openbatch envs', 'openbatch envs --output json'],
  async run(ctx) {
    const { environments } = await loadCatalog(ctx.client());
    if (ctx.output === 'json') {
      ctx.out(JSON.stringify(environments, null, 2) + '\n');
      return ExitCode.OK;
    }
    const rows = environments.map((e) => {
      const cr = e.computeResources;
      return [
        e.computeEnvironmentName ?? '-',
        e.type ?? '-',
        cr?.type ?? '-',
        statusText(ctx.style, e.state),
        statusText(ctx.style, e.status),
        cr
          ? `${cr.minvCpus ?? 0}/${cr.desiredvCpus ?? 0}/${cr.maxvCpus ?? '-'}`
          : e.unmanagedvCpus !== undefined
            ? String(e.unmanagedvCpus)
            : '-',
        cr?.instanceTypes?.join(',') || '-',
        cr?.allocationStrategy ?? '-',
      ];
    });
    ctx.out(
      rows.length
        ? table(
            ctx.style,
            [
              'NAME',
              'TYPE',
              'PROVISIONING',
              'STATE',
              'STATUS',
              'vCPUs min/desired/max',
              'INSTANCE TYPES',
              'ALLOCATION',
            ],
            rows,
          )
        : 'No compute environments.\n',
    );
    return ExitCode.OK;
  },
};
