/**
 * The web dashboard in headless Chromium (playwright-core, the system's /usr/bin/chromium) against a
 * real openbatch server: the empty state, a submitted job appearing and turning SUCCEEDED live (over
 * the event stream, not polling), its output in the log viewer, follow mode on a running job, and
 * Cancel/Terminate through the reason dialog.
 *
 * The dashboard routes are served by a small front server that answers them itself and forwards
 * every other request to the real server, so this test does not depend on how main.ts wires them.
 */
import fs from 'node:fs';
import http from 'node:http';

import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createDashboardRoutes,
  dashboardStaticDir,
  type DashboardRoutes,
} from '../../src/api/dashboard/dashboard-routes.js';
import { listen, type RunningHttpServer } from '../../src/api/http-server.js';
import { startTestServer, waitFor } from '../helpers/start-server.js';

const CHROMIUM = process.env.OPENBATCH_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
const SHOTS = process.env.OPENBATCH_SCREENSHOT_DIR ?? '/tmp';
if (!HAVE_CHROMIUM) {
  process.stderr.write(
    `dashboard.browser: skipped: ${CHROMIUM} is missing (install it with: apt-get install -y chromium)\n`,
  );
}

type Server = Awaited<ReturnType<typeof startTestServer>>;
let server: Server;
let dash: DashboardRoutes;
let front: RunningHttpServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function api<T = Record<string, unknown>>(op: string, body: unknown): Promise<T> {
  const r = await fetch(`${server.url}/v1/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (await r.json()) as T;
  if (!r.ok) throw new Error(`${op}: ${JSON.stringify(out)}`);
  return out;
}

async function jobDefinition(name: string, script: string): Promise<void> {
  await api('registerjobdefinition', {
    jobDefinitionName: name,
    type: 'container',
    containerProperties: {
      image: 'busybox',
      command: ['sh', '-c', script],
      environment: [{ name: 'GREETING', value: 'hello' }],
      resourceRequirements: [
        { type: 'VCPU', value: '1' },
        { type: 'MEMORY', value: '128' },
      ],
    },
  });
}

async function submit(
  jobName: string,
  jobDefinition: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const out = await api<{ jobId: string }>('submitjob', {
    jobName,
    jobQueue: 'default',
    jobDefinition,
    ...extra,
  });
  return out.jobId;
}

async function jobStatus(jobId: string): Promise<{ status: string; statusReason?: string }> {
  const out = await api<{ jobs: { status: string; statusReason?: string }[] }>('describejobs', {
    jobs: [jobId],
  });
  return out.jobs[0]!;
}

const row = (jobId: string) => page.locator(`#job-rows tr[data-job-id="${jobId}"]`);

/** A front server: dashboard routes here, everything else forwarded to the real server. */
async function startFront(target: string): Promise<RunningHttpServer> {
  const up = new URL(target);
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler =
      dash.extra.get(`${req.method} ${url.pathname}`) ??
      dash.prefixRoutes.find((r) => r.method === req.method && url.pathname.startsWith(r.prefix))?.handler;
    if (handler) {
      req.resume();
      void Promise.resolve(handler(req, res, Buffer.alloc(0), url)).catch(() => res.destroy());
      return;
    }
    const proxied = http.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    proxied.on('error', () => res.destroy());
    req.pipe(proxied);
  });
  return listen(srv, '127.0.0.1', 0);
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  server = await startTestServer({ killGraceMs: 500 });
  dash = createDashboardRoutes({
    events: server.events,
    staticDir: dashboardStaticDir(),
    heartbeatMs: 2_000,
  });
  front = await startFront(server.url);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
  });
});

afterAll(async () => {
  await browser?.close();
  dash?.close();
  await front?.close();
  await server?.close();
});

describe.skipIf(!HAVE_CHROMIUM)('dashboard in a browser', () => {
  it('shows the empty state with the aws CLI steps on a fresh server', async () => {
    await page.goto(`${front.url}/`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/');
    await page.locator('#empty').getByText('No jobs yet').waitFor();
    const empty = await page.locator('#empty').innerText();
    expect(empty).toContain(`export AWS_ENDPOINT_URL=${front.url}`);
    expect(empty).toContain('aws batch register-job-definition');
    expect(empty).toContain(
      'aws batch submit-job --job-name hello --job-queue default --job-definition hello',
    );
    await page.locator('#conn[data-state="live"]').waitFor();
    await page.locator('#queues [data-queue="default"]').waitFor();
    await page.locator('#ces [data-ce="default"]').waitFor();
    await page.screenshot({ path: `${SHOTS}/openbatch-dashboard-empty.png`, fullPage: true });
  });

  it('shows a submitted job live until SUCCEEDED, with its output in the log viewer', async () => {
    await jobDefinition(
      'hello',
      'echo "$GREETING from the dashboard test"; sleep 1; echo second line; echo to-stderr >&2',
    );
    const submittedAt = Date.now();
    const id = await submit('hello-dashboard', 'hello');
    await row(id).waitFor({ timeout: 10_000 });
    await page
      .locator(`#job-rows tr[data-job-id="${id}"][data-status="SUCCEEDED"]`)
      .waitFor({ timeout: 20_000 });
    // Live, not polled: the page polls every 30 s while the event stream is up.
    expect(Date.now() - submittedAt).toBeLessThan(20_000);
    await expect.poll(() => row(id).locator('td').nth(8).innerText(), { timeout: 10_000 }).toBe('0');
    expect(await row(id).innerText()).toContain('Essential container in task exited');
    await expect
      .poll(() => page.locator('#queues [data-queue="default"] [data-count="SUCCEEDED"] .n').innerText())
      .toBe('1');

    await row(id).locator('a.job-name').click();
    await page.locator('#detail #detail-title', { hasText: 'hello-dashboard' }).waitFor();
    expect(page.url()).toContain(`job=${id}`);
    await page.locator('#attempts tbody tr').first().waitFor();
    const overview = (await page.locator('#detail').textContent()) ?? '';
    expect(overview).toContain('GREETING');
    expect(overview).toContain('Attempts (1)');
    expect(await page.locator('#btn-cancel').isDisabled()).toBe(true);
    expect(await page.locator('#btn-terminate').isDisabled()).toBe(true);

    await page.locator('#tabbtn-logs').click();
    await page
      .locator('#log .line', { hasText: 'hello from the dashboard test' })
      .waitFor({ timeout: 10_000 });
    await page.locator('#log .line', { hasText: 'to-stderr' }).waitFor();
    const lines = await page.locator('#log .msg').allInnerTexts();
    expect(lines.slice(0, 2)).toEqual(['hello from the dashboard test', 'second line']);
    await page.screenshot({ path: `${SHOTS}/openbatch-dashboard-logs.png`, fullPage: true });
  });

  it('follows the output of a running job, cancels a waiting job and terminates a running one', async () => {
    await jobDefinition('ticker', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done');
    const longId = await submit('long-ticker', 'ticker');
    const depId = await submit('after-ticker', 'hello', { dependsOn: [{ jobId: longId }] });
    await page
      .locator(`#job-rows tr[data-job-id="${longId}"][data-status="RUNNING"]`)
      .waitFor({ timeout: 15_000 });
    await page
      .locator(`#job-rows tr[data-job-id="${depId}"][data-status="PENDING"]`)
      .waitFor({ timeout: 10_000 });

    // Follow mode: new lines arrive while the job runs.
    await row(longId).locator('a.job-name').click();
    await page.locator('#detail #detail-title', { hasText: 'long-ticker' }).waitFor();
    await page.keyboard.press('l');
    await page.locator('#log .line', { hasText: 'tick 1' }).first().waitFor({ timeout: 10_000 });
    const before = await page.locator('#log .line').count();
    await expect
      .poll(() => page.locator('#log .line').count(), { timeout: 10_000 })
      .toBeGreaterThan(before + 2);
    expect(await page.locator('#log-follow').isChecked()).toBe(true);

    // The dependent job links to its dependency.
    await row(depId).locator('a.job-name').click();
    await page.locator('#detail #detail-title', { hasText: 'after-ticker' }).waitFor();
    await page.locator(`#detail .deps a`, { hasText: longId }).waitFor();
    await page.screenshot({ path: `${SHOTS}/openbatch-dashboard-detail.png`, fullPage: true });

    // Cancel the waiting job with a reason.
    await page.locator('#btn-cancel').click();
    await page.locator('#reason-dialog[open]').waitFor();
    await page.locator('#reason-input').fill('not needed any more');
    await page.locator('#reason-ok').click();
    await page
      .locator(`#job-rows tr[data-job-id="${depId}"][data-status="FAILED"]`)
      .waitFor({ timeout: 10_000 });
    await waitFor(async () => (await jobStatus(depId)).status === 'FAILED', {
      what: 'dependent job cancelled',
    });
    expect((await jobStatus(depId)).statusReason).toBe('not needed any more');
    expect(await row(depId).innerText()).toContain('not needed any more');

    // Terminate the running job through the dependency link and keyboard.
    await page.locator(`#detail .deps a`, { hasText: longId }).click();
    await page.locator('#detail #detail-title', { hasText: 'long-ticker' }).waitFor();
    await page.locator('#btn-terminate:not([disabled])').click();
    await page.locator('#reason-dialog[open]').waitFor();
    await page.locator('#reason-input').fill('stopped by the browser test');
    await page.keyboard.press('Enter');
    await page
      .locator(`#job-rows tr[data-job-id="${longId}"][data-status="FAILED"]`)
      .waitFor({ timeout: 15_000 });
    expect((await jobStatus(longId)).statusReason).toBe('stopped by the browser test');
    await page.locator('#detail .status[data-s="FAILED"]').first().waitFor();
    await page.screenshot({ path: `${SHOTS}/openbatch-dashboard-board.png`, fullPage: true });
  });

  it('filters by status and name, and moves between rows with the keyboard', async () => {
    await page.keyboard.press('Escape');
    await page.locator('#detail').waitFor({ state: 'hidden' });
    await page.locator('#f-status').selectOption('SUCCEEDED');
    await expect.poll(() => page.locator('#job-rows tr').count()).toBe(1);
    expect(await page.locator('#job-rows tr').first().getAttribute('data-status')).toBe('SUCCEEDED');
    await page.locator('#f-status').selectOption('');
    await page.keyboard.press('/');
    await page.keyboard.type('long');
    await expect.poll(() => page.locator('#job-rows tr').count()).toBe(1);
    expect(await page.locator('#job-rows tr .job-name').innerText()).toBe('long-ticker');
    await page.locator('#f-clear').click();
    await expect.poll(() => page.locator('#job-rows tr').count()).toBe(3);
    await page.locator('#job-rows').click({ position: { x: 1, y: 1 }, trial: true });
    await page.locator('body').focus();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.locator('#detail:not([hidden])').waitFor();
    const title = await page.locator('#detail-title').innerText();
    expect(['long-ticker', 'after-ticker', 'hello-dashboard']).toContain(title);
  });

  it('raised no script errors and no CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
