// openbatch dashboard: vanilla JS, no build step, no external assets.
// Data comes from the AWS Batch API (POST /v1/<op>), CloudWatch Logs (POST / + X-Amz-Target) and the
// live event stream (GET /openbatch/v1/events, Server-Sent Events) with a polling fallback.
// Every value from the server is rendered with textContent, never as HTML.

const STATUSES = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED'];
const ACTIVE = new Set(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING']);
const CANCELLABLE = new Set(['SUBMITTED', 'PENDING', 'RUNNABLE']);
const STATUS_RANK = Object.fromEntries(STATUSES.map((s, i) => [s, i]));
const COUNT_CAP = 1000;
const RECENT_PAGE = 100;
const ROW_PAGE = 200;
const POLL_LIVE_MS = 30_000;
const POLL_FALLBACK_MS = 5_000;
const LOG_FOLLOW_MS = 1_500;
const LOG_MAX_LINES = 20_000;
const DEFAULT_LOG_GROUP = '/aws/batch/job';

// ------------------------------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------------------------------

const state = {
  queues: [], // DescribeJobQueues detail
  ces: [], // DescribeComputeEnvironments detail
  counts: new Map(), // queueArn → { STATUS: { n, more } }
  vcpusInUse: new Map(), // queueArn → number
  jobs: new Map(), // jobId → row
  filters: { queue: '', status: '', name: '' },
  recentPages: 1,
  rowLimit: ROW_PAGE,
  selected: null, // jobId
  tab: 'overview',
  live: false,
  lastRefresh: 0,
  loadedOnce: false,
  clockSkew: 0, // server time − browser time
  stats: null,
};

/** @returns {HTMLElement} */
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') for (const [prop, val] of Object.entries(v)) el.style.setProperty(prop, val);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const now = () => Date.now() + state.clockSkew;
const queueName = (arn) => (arn ? String(arn).split('/').pop() : '');
const ceName = (arn) => (arn ? String(arn).split('/').pop() : '');
const jdName = (arn) => (arn ? String(arn).split('/').pop() : '');

// ------------------------------------------------------------------------------------------------
// Formatting
// ------------------------------------------------------------------------------------------------

function fmtDuration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hh = Math.floor(m / 60);
  if (hh < 48) return `${hh}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hh / 24)}d ${hh % 24}h`;
}

function fmtTime(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  const today = new Date(now());
  const hms = d.toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  });
  if (d.toDateString() === today.toDateString()) return hms;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${hms.slice(0, 5)}`;
}

function fmtAgo(ms) {
  if (!ms) return '';
  const d = now() - ms;
  if (d < 5_000) return 'just now';
  return `${fmtDuration(d).split(' ')[0]} ago`;
}

const iso = (ms) => (ms ? new Date(ms).toISOString() : '');
const fmtCount = (c) => (c ? `${c.n.toLocaleString()}${c.more ? '+' : ''}` : '–');

function statusPill(status) {
  const s = status || 'UNKNOWN';
  return h(
    'span',
    { class: 'status', dataset: { s } },
    h('span', { class: 'dot', 'aria-hidden': 'true' }),
    s,
  );
}

function durationOf(j) {
  if (!j.startedAt) return undefined;
  return (j.stoppedAt ?? now()) - j.startedAt;
}

// ------------------------------------------------------------------------------------------------
// API
// ------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, type, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

function noteServerDate(res) {
  const d = Date.parse(res.headers.get('date') || '');
  if (!Number.isFinite(d)) return;
  const skew = d - Date.now();
  // Date has 1 s resolution: only correct clearly different clocks.
  if (Math.abs(skew) > 2_000 && Math.abs(skew - state.clockSkew) > 2_000) state.clockSkew = skew;
}

async function call(url, headers, body) {
  let res;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body ?? {}), cache: 'no-store' });
  } catch (err) {
    setConn('offline');
    throw new ApiError(`Cannot reach the server (${err.message})`, 'NetworkError', 0);
  }
  noteServerDate(res);
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!res.ok)
    throw new ApiError(
      data.message || data.Message || `${res.status} ${res.statusText}`,
      data.__type,
      res.status,
    );
  return data;
}

const batch = (op, body) => call(`/v1/${op.toLowerCase()}`, { 'content-type': 'application/json' }, body);
const logsApi = (op, body) =>
  call('/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${op}` }, body);

/** Runs fns with at most `limit` in flight. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

async function listAll(op, key, body, max = 1000) {
  const out = [];
  let nextToken;
  do {
    const r = await batch(op, { ...body, ...(nextToken ? { nextToken } : {}) });
    out.push(...(r[key] ?? []));
    nextToken = r.nextToken;
  } while (nextToken && out.length < max);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Jobs store
// ------------------------------------------------------------------------------------------------

function upsertSummary(s, queueArn, refreshStartedAt) {
  const prev = state.jobs.get(s.jobId);
  const row = prev ?? { jobId: s.jobId };
  // An event newer than this refresh wins over the listing.
  const stale = prev && prev.eventAt && prev.eventAt > refreshStartedAt;
  row.jobName = s.jobName;
  row.jobArn = s.jobArn;
  row.queueArn = queueArn ?? row.queueArn;
  row.createdAt = s.createdAt;
  row.jobDefinition = s.jobDefinition ?? row.jobDefinition;
  if (s.arrayProperties) {
    row.arraySize = s.arrayProperties.size ?? row.arraySize;
    if (s.arrayProperties.statusSummary) row.statusSummary = s.arrayProperties.statusSummary;
  }
  if (!stale) {
    if (prev && prev.status !== s.status) row.changedAt = Date.now();
    row.status = s.status;
    row.statusReason = s.statusReason;
    row.startedAt = s.startedAt;
    row.stoppedAt = s.stoppedAt;
    if (s.container?.exitCode !== undefined) row.exitCode = s.container.exitCode;
  }
  row.seenAt = refreshStartedAt;
  state.jobs.set(s.jobId, row);
  return row;
}

function applyDetail(d, fetchedAt) {
  const prev = state.jobs.get(d.jobId);
  const row = prev ?? { jobId: d.jobId, seenAt: fetchedAt };
  const stale = prev && prev.eventAt && prev.eventAt > fetchedAt;
  row.detail = d;
  row.detailAt = fetchedAt;
  row.jobName = d.jobName;
  row.jobArn = d.jobArn;
  row.queueArn = d.jobQueue ?? row.queueArn;
  row.createdAt = d.createdAt;
  row.jobDefinition = d.jobDefinition;
  row.attempts = (d.attempts ?? []).length;
  if (d.arrayProperties) {
    row.arraySize = d.arrayProperties.size ?? row.arraySize;
    if (d.arrayProperties.statusSummary) row.statusSummary = d.arrayProperties.statusSummary;
  }
  if (!stale) {
    if (prev && prev.status && prev.status !== d.status) row.changedAt = Date.now();
    row.status = d.status;
    row.statusReason = d.statusReason;
    row.startedAt = d.startedAt;
    row.stoppedAt = d.stoppedAt;
    row.exitCode = d.container?.exitCode;
  }
  // Only top-level jobs join the table by themselves; children are reached through their parent.
  if (prev || d.arrayProperties?.index === undefined) state.jobs.set(d.jobId, row);
  return row;
}

const detailCache = new Map(); // jobId → detail, for jobs outside the table (children, dependencies)

// Batched DescribeJobs: ids collect for a moment and go out 100 at a time.
const describeQueue = new Set();
let describeTimer = 0;
let describeWaiters = [];

function describeSoon(ids) {
  for (const id of ids) describeQueue.add(id);
  return new Promise((resolve) => {
    describeWaiters.push(resolve);
    if (!describeTimer) describeTimer = setTimeout(flushDescribe, 150);
  });
}

async function flushDescribe() {
  describeTimer = 0;
  const ids = [...describeQueue];
  describeQueue.clear();
  const waiters = describeWaiters;
  describeWaiters = [];
  const chunks = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
  const fetchedAt = Date.now();
  try {
    await pool(chunks, 3, async (chunk) => {
      const r = await batch('DescribeJobs', { jobs: chunk });
      for (const d of r.jobs ?? []) {
        detailCache.set(d.jobId, d);
        applyDetail(d, fetchedAt);
      }
    });
  } catch (err) {
    console.warn('DescribeJobs failed', err);
  }
  for (const w of waiters) w();
  scheduleRender();
}

// ------------------------------------------------------------------------------------------------
// Refresh (full state load; also the polling fallback)
// ------------------------------------------------------------------------------------------------

let refreshing = null;
let refreshAgain = false;

function refreshAll() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = doRefresh()
    .catch((err) => {
      console.warn('refresh failed', err);
      if (err.type !== 'NetworkError') toast(`Refresh failed: ${err.message}`, true);
    })
    .finally(() => {
      refreshing = null;
      if (refreshAgain) {
        refreshAgain = false;
        void refreshAll();
      }
    });
  return refreshing;
}

async function doRefresh() {
  const startedAt = Date.now();
  const [queues, ces] = await Promise.all([
    listAll('DescribeJobQueues', 'jobQueues', { maxResults: 100 }, 10_000),
    listAll('DescribeComputeEnvironments', 'computeEnvironments', { maxResults: 100 }, 10_000),
  ]);
  state.queues = queues.sort(
    (a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.jobQueueName.localeCompare(b.jobQueueName),
  );
  state.ces = ces.sort((a, b) => a.computeEnvironmentName.localeCompare(b.computeEnvironmentName));
  if (!state.live && (state.loadedOnce || !es)) setConn('polling');

  const name = state.filters.name.trim();
  const tasks = [];
  for (const q of state.queues) {
    const arn = q.jobQueueArn;
    // Counts per status; active lists also fill the table (they are bounded by what can run).
    for (const status of STATUSES) {
      tasks.push(async () => {
        const r = await batch('ListJobs', { jobQueue: arn, jobStatus: status, maxResults: COUNT_CAP });
        const list = r.jobSummaryList ?? [];
        return {
          kind: 'count',
          arn,
          status,
          n: list.length,
          more: Boolean(r.nextToken),
          list: ACTIVE.has(status) ? list : [],
        };
      });
    }
    // Newest jobs of any status (finished ones included), a page at a time.
    tasks.push(async () => {
      const filters = [{ name: 'AFTER_CREATED_AT', values: ['0'] }];
      const list = await listAll(
        'ListJobs',
        'jobSummaryList',
        { jobQueue: arn, filters, maxResults: RECENT_PAGE },
        RECENT_PAGE * state.recentPages,
      );
      return { kind: 'list', arn, list };
    });
    if (name) {
      tasks.push(async () => {
        const filters = [{ name: 'JOB_NAME', values: [`${name}*`] }];
        const list = await listAll(
          'ListJobs',
          'jobSummaryList',
          { jobQueue: arn, filters, maxResults: RECENT_PAGE },
          RECENT_PAGE * 2,
        );
        return { kind: 'list', arn, list };
      });
    }
    tasks.push(async () => {
      try {
        const snap = await batch('GetJobQueueSnapshot', { jobQueue: arn });
        const use = snap.queueUtilization?.totalCapacityUsage?.find((u) => u.capacityUnit === 'VCPU');
        return { kind: 'snapshot', arn, vcpus: use?.quantity ?? 0 };
      } catch {
        return { kind: 'snapshot', arn, vcpus: undefined };
      }
    });
  }
  const statsP = fetch('/openbatch/v1/stats', { cache: 'no-store' })
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null);

  const results = await pool(tasks, 8, (t) => t());
  const counts = new Map();
  for (const r of results) {
    if (r.kind === 'count') {
      if (!counts.has(r.arn)) counts.set(r.arn, {});
      counts.get(r.arn)[r.status] = { n: r.n, more: r.more };
    }
    if (r.kind === 'count' || r.kind === 'list') for (const s of r.list) upsertSummary(s, r.arn, startedAt);
    if (r.kind === 'snapshot') state.vcpusInUse.set(r.arn, r.vcpus);
  }
  state.counts = counts;
  state.stats = await statsP;

  // Forget jobs that are gone (deleted queue, retention), but never the selected one or ones
  // that arrived by event during this refresh.
  for (const [id, row] of state.jobs) {
    if (row.seenAt < startedAt && !(row.eventAt > startedAt) && id !== state.selected) state.jobs.delete(id);
  }

  // Details (attempts, exit codes) for what is on screen: missing ones, and active ones again.
  const need = visibleRows()
    .filter((r) => !r.detail || ACTIVE.has(r.status) || ACTIVE.has(r.detail.status))
    .map((r) => r.jobId);
  if (state.selected) need.push(state.selected);
  if (need.length) await describeSoon(need);

  state.lastRefresh = Date.now();
  state.loadedOnce = true;
  scheduleRender();
}

// ------------------------------------------------------------------------------------------------
// Live events (SSE) with polling fallback
// ------------------------------------------------------------------------------------------------

let es = null;
let pollTimer = 0;
let eventRefreshTimer = 0;
let lastEventRefresh = 0;

function setConn(kind) {
  const el = $('conn');
  const text = {
    connecting: 'Connecting…',
    live: 'Live',
    polling: `Polling every ${POLL_FALLBACK_MS / 1000}s`,
    offline: 'Server unreachable',
  }[kind];
  if (el.dataset.state === kind) return;
  el.dataset.state = kind;
  el.querySelector('.conn-text').textContent = text;
  el.title =
    kind === 'live'
      ? 'Receiving job events as they happen'
      : kind === 'polling'
        ? 'The event stream is unavailable; reloading periodically'
        : '';
}

function schedulePoll() {
  clearTimeout(pollTimer);
  const ms = document.hidden ? 60_000 : state.live ? POLL_LIVE_MS : POLL_FALLBACK_MS;
  pollTimer = setTimeout(async () => {
    await refreshAll();
    schedulePoll();
  }, ms);
}

/** A burst of events is followed by one reload (counts, snapshots), at most every 2 s. */
function refreshAfterEvents() {
  if (eventRefreshTimer) return;
  const wait = Math.max(700, 2_000 - (Date.now() - lastEventRefresh));
  eventRefreshTimer = setTimeout(() => {
    eventRefreshTimer = 0;
    lastEventRefresh = Date.now();
    void refreshAll();
  }, wait);
}

function bumpCount(queueArn, from, to) {
  const c = state.counts.get(queueArn);
  if (!c) return;
  if (from && c[from] && !c[from].more && c[from].n > 0) c[from].n--;
  if (to) {
    c[to] ??= { n: 0, more: false };
    if (!c[to].more) c[to].n++;
  }
}

function onSubmitted(e) {
  if (!state.jobs.has(e.jobId)) {
    state.jobs.set(e.jobId, {
      jobId: e.jobId,
      jobName: e.jobName,
      queueArn: e.jobQueueArn,
      status: 'SUBMITTED',
      createdAt: e.at,
      arraySize: e.arraySize,
      eventAt: Date.now(),
      seenAt: Date.now(),
      changedAt: Date.now(),
    });
    bumpCount(e.jobQueueArn, undefined, 'SUBMITTED');
  }
  void describeSoon([e.jobId]);
  refreshAfterEvents();
  scheduleRender();
}

function onStatusChanged(e) {
  if (e.parentId) {
    // An array child: refresh its parent's summary (and the child if it is open).
    const ids = [e.parentId];
    if (state.selected === e.jobId) ids.push(e.jobId);
    if (state.selected === e.parentId) scheduleChildrenReload();
    void describeSoon(ids);
    return;
  }
  const row = state.jobs.get(e.jobId);
  if (row) {
    if (row.status !== e.to) row.changedAt = Date.now();
    row.status = e.to;
    if (e.statusReason !== undefined) row.statusReason = e.statusReason;
    if (e.to === 'STARTING' || e.to === 'RUNNING') row.startedAt ??= e.at;
    if (e.to === 'RUNNABLE' || e.to === 'PENDING') {
      row.startedAt = undefined;
      row.stoppedAt = undefined;
    }
    if (e.to === 'SUCCEEDED' || e.to === 'FAILED') row.stoppedAt ??= e.at;
    row.eventAt = Date.now();
  } else {
    state.jobs.set(e.jobId, {
      jobId: e.jobId,
      jobName: e.jobName,
      queueArn: e.jobQueueArn,
      status: e.to,
      statusReason: e.statusReason,
      eventAt: Date.now(),
      seenAt: Date.now(),
      changedAt: Date.now(),
    });
  }
  bumpCount(e.jobQueueArn, e.from, e.to);
  void describeSoon([e.jobId]);
  refreshAfterEvents();
  scheduleRender();
}

function connectEvents() {
  if (!('EventSource' in window)) {
    setConn('polling');
    return;
  }
  es = new EventSource('/openbatch/v1/events');
  es.addEventListener('open', () => {
    state.live = true;
    setConn('live');
    schedulePoll();
  });
  es.addEventListener('hello', (ev) => {
    try {
      const d = JSON.parse(ev.data);
      if (typeof d.serverTime === 'number') state.clockSkew = d.serverTime - Date.now();
    } catch {
      /* ignore */
    }
    // Anything may have happened while we were not listening.
    void refreshAll();
  });
  es.addEventListener('job:submitted', (ev) => onSubmitted(JSON.parse(ev.data)));
  es.addEventListener('job:statusChanged', (ev) => onStatusChanged(JSON.parse(ev.data)));
  es.addEventListener('resync', () => void refreshAll());
  es.addEventListener('error', () => {
    state.live = false;
    setConn('polling');
    schedulePoll();
    if (es.readyState === EventSource.CLOSED) {
      // Not reconnecting by itself (endpoint missing, server restarted with an error): retry later.
      es = null;
      setTimeout(connectEvents, 15_000);
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Rendering
// ------------------------------------------------------------------------------------------------

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    render();
  });
}

function render() {
  renderTiles();
  renderQueues();
  renderCes();
  renderFilters();
  renderTable();
  renderDetail();
  $('updated').textContent = state.lastRefresh
    ? `Updated ${fmtTime(state.lastRefresh + state.clockSkew)}`
    : '';
}

function totals() {
  const t = Object.fromEntries(STATUSES.map((s) => [s, { n: 0, more: false }]));
  for (const c of state.counts.values()) {
    for (const s of STATUSES) {
      if (!c[s]) continue;
      t[s].n += c[s].n;
      t[s].more ||= c[s].more;
    }
  }
  return t;
}

function renderTiles() {
  const t = totals();
  const queued = {
    n: t.SUBMITTED.n + t.PENDING.n + t.RUNNABLE.n,
    more: t.SUBMITTED.more || t.PENDING.more || t.RUNNABLE.more,
  };
  const running = { n: t.STARTING.n + t.RUNNING.n, more: t.STARTING.more || t.RUNNING.more };
  let used = 0;
  for (const v of state.vcpusInUse.values()) used += v ?? 0;
  const max = state.ces.filter((c) => c.state === 'ENABLED').reduce((a, c) => a + ceMaxVcpus(c), 0);
  const tile = (label, value, sub, color) =>
    h(
      'div',
      { class: 'tile', style: color ? { '--tile-c': color } : undefined },
      h('div', { class: 'tile-label', text: label }),
      h('div', { class: 'tile-value', text: value }),
      h('div', { class: 'tile-sub', text: sub }),
    );
  const tiles = [
    tile('Running', fmtCount(running), `${t.STARTING.n} starting`, 'var(--s-RUNNING)'),
    tile(
      'Waiting',
      fmtCount(queued),
      `${t.RUNNABLE.n} runnable · ${t.PENDING.n} pending`,
      'var(--s-RUNNABLE)',
    ),
    tile('Succeeded', fmtCount(t.SUCCEEDED), 'kept by job retention', 'var(--s-SUCCEEDED)'),
    tile('Failed', fmtCount(t.FAILED), 'kept by job retention', 'var(--s-FAILED)'),
    tile(
      'vCPUs in use',
      `${used}${max ? ` / ${max}` : ''}`,
      `${state.ces.length} compute environment${state.ces.length === 1 ? '' : 's'}`,
      'var(--s-STARTING)',
    ),
  ];
  $('tiles').replaceChildren(...tiles);
}

function renderQueues() {
  const box = $('queues');
  if (!state.loadedOnce) {
    box.replaceChildren(h('div', { class: 'queue muted', text: 'Loading…' }));
    return;
  }
  if (!state.queues.length) {
    box.replaceChildren(
      h('div', { class: 'queue muted', text: 'No job queues. Create one with aws batch create-job-queue.' }),
    );
    return;
  }
  $('queues-note').textContent = 'Click a count to filter the jobs';
  box.replaceChildren(
    ...state.queues.map((q) => {
      const c = state.counts.get(q.jobQueueArn) ?? {};
      const healthy = q.state === 'ENABLED' && q.status === 'VALID';
      const vcpus = state.vcpusInUse.get(q.jobQueueArn);
      const ceNames = [...(q.computeEnvironmentOrder ?? [])]
        .sort((a, b) => a.order - b.order)
        .map((o) => ceName(o.computeEnvironment));
      return h(
        'div',
        { class: 'queue', dataset: { queue: q.jobQueueName } },
        h(
          'div',
          { class: 'queue-title' },
          h('span', { class: 'queue-name', text: q.jobQueueName }),
          h('span', {
            class: `badge ${healthy ? 'ok' : q.state !== 'ENABLED' ? 'warn' : 'bad'}`,
            text: q.state === 'ENABLED' ? q.status : q.state,
            title: q.statusReason ?? '',
          }),
          h('span', {
            class: 'queue-meta',
            text: `priority ${q.priority ?? 0} · ${vcpus ?? 0} vCPU in use · → ${ceNames.join(', ') || 'no compute environment'}`,
          }),
        ),
        h(
          'div',
          { class: 'chips', role: 'group', 'aria-label': `${q.jobQueueName} jobs by status` },
          ...STATUSES.map((s) => {
            const cnt = c[s];
            const pressed = state.filters.queue === q.jobQueueName && state.filters.status === s;
            return h(
              'button',
              {
                type: 'button',
                class: `chip${cnt && cnt.n > 0 ? '' : ' zero'}`,
                dataset: { s, count: s },
                'aria-pressed': String(pressed),
                title: `Show ${s} jobs in ${q.jobQueueName}`,
                onclick: () =>
                  setFilters(pressed ? { queue: '', status: '' } : { queue: q.jobQueueName, status: s }),
              },
              h('span', { class: 'dot', 'aria-hidden': 'true' }),
              s.charAt(0) + s.slice(1).toLowerCase(),
              h('span', { class: 'n', text: fmtCount(cnt) }),
            );
          }),
        ),
      );
    }),
  );
}

function ceMaxVcpus(ce) {
  return ce.computeResources?.maxvCpus ?? ce.unmanagedvCpus ?? 0;
}

/**
 * vCPUs used per compute environment (keyed by ECS cluster name): running jobs we have details for
 * are placed by their container instance; the rest of each queue's snapshot usage (array children,
 * jobs not loaded) goes to the queue's first compute environment.
 */
function ceUsage() {
  const byCluster = new Map();
  const placedPerQueue = new Map();
  const add = (cluster, v) => byCluster.set(cluster, (byCluster.get(cluster) ?? 0) + v);
  for (const row of state.jobs.values()) {
    const d = row.detail;
    if (!d || (row.status !== 'RUNNING' && row.status !== 'STARTING')) continue;
    const inst = d.container?.containerInstanceArn ?? d.container?.taskArn ?? '';
    const m = /:(?:container-instance|task)\/([^/]+)\//.exec(inst);
    if (!m) continue;
    add(m[1], jobVcpus(d));
    placedPerQueue.set(d.jobQueue, (placedPerQueue.get(d.jobQueue) ?? 0) + jobVcpus(d));
  }
  const clusterOf = new Map(
    state.ces.map((ce) => [ce.computeEnvironmentArn, (ce.ecsClusterArn ?? '').split('/').pop()]),
  );
  for (const q of state.queues) {
    const rest = (state.vcpusInUse.get(q.jobQueueArn) ?? 0) - (placedPerQueue.get(q.jobQueueArn) ?? 0);
    const first = [...(q.computeEnvironmentOrder ?? [])].sort((a, b) => a.order - b.order)[0];
    if (rest > 0 && first && clusterOf.has(first.computeEnvironment))
      add(clusterOf.get(first.computeEnvironment), rest);
  }
  return byCluster;
}

function jobVcpus(d) {
  const rr = d.container?.resourceRequirements ?? [];
  const v = rr.find((r) => r.type === 'VCPU');
  if (v) return Number(v.value) || 0;
  return d.container?.vcpus ?? 0;
}

function renderCes() {
  const box = $('ces');
  if (!state.loadedOnce) {
    box.replaceChildren(h('div', { class: 'ce muted', text: 'Loading…' }));
    return;
  }
  if (!state.ces.length) {
    box.replaceChildren(h('div', { class: 'ce muted', text: 'No compute environments.' }));
    return;
  }
  const usage = ceUsage();
  box.replaceChildren(
    ...state.ces.map((ce) => {
      const cluster = (ce.ecsClusterArn ?? '').split('/').pop();
      const used = usage.get(cluster) ?? 0;
      const max = ceMaxVcpus(ce);
      const pct = max > 0 ? Math.min(100, (used / max) * 100) : 0;
      const cr = ce.computeResources;
      const healthy = ce.state === 'ENABLED' && ce.status === 'VALID';
      return h(
        'div',
        { class: 'ce', dataset: { ce: ce.computeEnvironmentName } },
        h(
          'div',
          { class: 'ce-top' },
          h(
            'span',
            {},
            h('span', { class: 'ce-name', text: ce.computeEnvironmentName }),
            ' ',
            h('span', { class: 'muted small', text: `${ce.type ?? ''}${cr?.type ? ` · ${cr.type}` : ''}` }),
          ),
          h('span', {
            class: `badge ${healthy ? 'ok' : ce.state !== 'ENABLED' ? 'warn' : 'bad'}`,
            text: ce.state === 'ENABLED' ? ce.status : ce.state,
            title: ce.statusReason ?? '',
          }),
        ),
        h(
          'div',
          {
            class: `meter${pct >= 90 ? ' hot' : ''}`,
            role: 'meter',
            'aria-valuemin': '0',
            'aria-valuemax': String(max),
            'aria-valuenow': String(used),
            'aria-label': `${ce.computeEnvironmentName} vCPUs in use`,
          },
          h('span', { style: { width: `${pct}%` } }),
        ),
        h(
          'div',
          { class: 'ce-foot' },
          h('span', { text: `${used} / ${max} vCPUs in use` }),
          h('span', {
            text: cr
              ? `min ${cr.minvCpus ?? 0} · desired ${cr.desiredvCpus ?? 0} · max ${cr.maxvCpus ?? 0}`
              : 'unmanaged',
          }),
        ),
      );
    }),
  );
}

function renderFilters() {
  const qSel = $('f-queue');
  const wantQ = ['', ...state.queues.map((q) => q.jobQueueName)];
  if ([...qSel.options].map((o) => o.value).join('\n') !== wantQ.join('\n')) {
    qSel.replaceChildren(...wantQ.map((v) => h('option', { value: v, text: v || 'All queues' })));
  }
  qSel.value = state.filters.queue;
  const sSel = $('f-status');
  if (sSel.options.length !== STATUSES.length + 1) {
    sSel.replaceChildren(
      h('option', { value: '', text: 'Any status' }),
      ...STATUSES.map((s) => h('option', { value: s, text: s })),
    );
  }
  sSel.value = state.filters.status;
  const nameEl = $('f-name');
  if (document.activeElement !== nameEl && nameEl.value !== state.filters.name)
    nameEl.value = state.filters.name;
  $('f-clear').hidden = !state.filters.queue && !state.filters.status && !state.filters.name;
}

function filteredRows() {
  const { queue, status, name } = state.filters;
  const needle = name.trim().toLowerCase();
  const rows = [];
  for (const r of state.jobs.values()) {
    if (r.detail?.arrayProperties?.index !== undefined) continue; // children live in the parent's panel
    if (queue && queueName(r.queueArn) !== queue) continue;
    if (status && r.status !== status) continue;
    if (needle && !(r.jobName ?? '').toLowerCase().includes(needle) && !r.jobId.startsWith(needle)) continue;
    rows.push(r);
  }
  rows.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0) || (a.jobId < b.jobId ? -1 : 1));
  return rows;
}

function visibleRows() {
  return filteredRows().slice(0, state.rowLimit);
}

function attemptsText(r) {
  if (r.attempts === undefined) return '';
  const n = r.attempts + (r.status === 'RUNNING' || r.status === 'STARTING' ? 1 : 0);
  return n ? String(n) : '';
}

function timeCell(ms, cls = 'c-time') {
  return h('td', { class: cls, title: iso(ms) }, fmtTime(ms));
}

function renderTable() {
  const all = filteredRows();
  const rows = all.slice(0, state.rowLimit);
  const totalJobs = [...state.jobs.values()].length;
  const t = totals();
  const anyCounted = STATUSES.some((s) => t[s].n > 0);
  const filtering = state.filters.queue || state.filters.status || state.filters.name;

  const empty = $('empty');
  const showEmpty = state.loadedOnce && rows.length === 0;
  empty.hidden = !showEmpty;
  $('table-wrap').hidden = showEmpty;
  document.querySelector('.table-foot').hidden = showEmpty && !filtering;
  if (showEmpty) renderEmpty(empty, Boolean(filtering) && (totalJobs > 0 || anyCounted));

  const focusedId = document.activeElement?.closest?.('tr[data-job-id]')?.dataset.jobId;
  const tbody = $('job-rows');
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const isArray = r.arraySize !== undefined;
    const exit = r.exitCode;
    const tr = h(
      'tr',
      {
        dataset: { jobId: r.jobId, status: r.status ?? '' },
        'aria-selected': String(state.selected === r.jobId),
        class: r.changedAt && Date.now() - r.changedAt < 1200 ? 'flash' : undefined,
      },
      h('td', { class: 'c-status' }, statusPill(r.status)),
      h(
        'td',
        { class: 'c-name' },
        h('a', { class: 'job-name', href: hrefFor(r.jobId), text: r.jobName ?? '(unnamed)' }),
        isArray ? h('span', { class: 'array-tag', title: 'Array job', text: `[${r.arraySize}]` }) : null,
        h('span', { class: 'job-id', text: r.jobId }),
      ),
      h('td', { class: 'c-queue', text: queueName(r.queueArn) }),
      h('td', { class: 'c-num', title: 'Attempts made, including one in progress', text: attemptsText(r) }),
      h('td', { class: 'c-time', title: iso(r.createdAt) }, h('span', { text: fmtTime(r.createdAt) })),
      timeCell(r.startedAt, 'c-time c-wide'),
      timeCell(r.stoppedAt, 'c-time c-wide'),
      h('td', {
        class: 'c-num',
        dataset: r.startedAt && !r.stoppedAt ? { since: String(r.startedAt) } : undefined,
        text: fmtDuration(durationOf(r)),
      }),
      h('td', {
        class: `c-num${exit !== undefined && exit !== 0 ? ' exit-bad' : ''}`,
        text: exit !== undefined ? String(exit) : '',
      }),
      h('td', { class: 'c-reason', text: r.statusReason ?? '' }),
    );
    frag.append(tr);
  }
  tbody.replaceChildren(frag);
  if (focusedId)
    tbody.querySelector(`tr[data-job-id="${CSS.escape(focusedId)}"] a`)?.focus({ preventScroll: true });

  const more = all.length - rows.length;
  $('show-more').hidden = more <= 0;
  $('show-more').textContent = `Show ${Math.min(more, ROW_PAGE)} more rows`;
  $('job-count').textContent = state.loadedOnce
    ? `${rows.length.toLocaleString()} of ${all.length.toLocaleString()} loaded job${all.length === 1 ? '' : 's'} shown${filtering ? ' (filtered)' : ''} · newest first`
    : 'Loading jobs…';
}

function renderEmpty(box, filtered) {
  if (filtered) {
    box.replaceChildren(
      h('h3', { text: 'No jobs match these filters' }),
      h('p', {
        text: 'Finished jobs are loaded newest first; older ones may match. Try loading older jobs or clearing the filters.',
      }),
      h('button', {
        type: 'button',
        class: 'btn',
        onclick: () => setFilters({ queue: '', status: '', name: '' }),
        text: 'Clear filters',
      }),
    );
    return;
  }
  const queue =
    state.queues.find((q) => q.state === 'ENABLED')?.jobQueueName ??
    state.queues[0]?.jobQueueName ??
    'default';
  const origin = location.origin;
  const env = `export AWS_ENDPOINT_URL=${origin}\nexport AWS_ACCESS_KEY_ID=openbatch AWS_SECRET_ACCESS_KEY=openbatch AWS_DEFAULT_REGION=us-east-1`;
  const jd = [
    `aws batch register-job-definition --job-definition-name hello --type container \\`,
    `  --container-properties '{`,
    `    "image": "busybox",`,
    `    "command": ["sh", "-c", "echo hello from openbatch; sleep 5; echo done"],`,
    `    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "128"}]`,
    `  }'`,
  ].join('\n');
  const submit = `aws batch submit-job --job-name hello --job-queue ${queue} --job-definition hello`;
  const snippet = (text, label) =>
    h(
      'div',
      { class: 'snippet' },
      h('pre', {}, h('code', { text })),
      h('button', {
        type: 'button',
        class: 'btn btn-sm copy',
        'aria-label': `Copy: ${label}`,
        onclick: (ev) => copyText(text, ev.currentTarget),
        text: 'Copy',
      }),
    );
  box.replaceChildren(
    h('h3', { text: 'No jobs yet' }),
    h(
      'p',
      {},
      'This server speaks the AWS Batch API, so the aws CLI, boto3 and the AWS SDKs work unchanged. Submit a first job and watch it appear here live.',
    ),
    h(
      'ol',
      {},
      h(
        'li',
        {},
        'Point the AWS CLI at this server (any credentials are accepted):',
        snippet(env, 'environment'),
      ),
      h('li', {}, 'Register a job definition:', snippet(jd, 'register job definition')),
      h('li', {}, `Submit a job to the ${queue} queue:`, snippet(submit, 'submit job')),
    ),
  );
}

async function copyText(text, btn) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', {}, text);
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  if (btn) {
    btn.textContent = 'Copied';
    setTimeout(() => (btn.textContent = 'Copy'), 1500);
  }
}

// ------------------------------------------------------------------------------------------------
// Detail panel
// ------------------------------------------------------------------------------------------------

let detailKey = '';
let children = { parentId: null, byIndex: new Map(), loading: false };
let childrenTimer = 0;

function selectedDetail() {
  if (!state.selected) return undefined;
  return state.jobs.get(state.selected)?.detail ?? detailCache.get(state.selected);
}

function openJob(jobId, { tab, focus } = {}) {
  const changed = state.selected !== jobId;
  state.selected = jobId;
  if (tab) state.tab = tab;
  else if (changed) state.tab = 'overview';
  if (changed) {
    detailKey = '';
    logView.reset();
    children = { parentId: null, byIndex: new Map(), loading: false };
  }
  updateHash();
  void describeSoon([jobId]).then(() => {
    const d = selectedDetail();
    const deps = (d?.dependsOn ?? []).map((x) => x.jobId).filter((id) => !detailCache.has(id));
    if (deps.length) void describeSoon(deps);
  });
  scheduleRender();
  if (focus) requestAnimationFrame(() => $('detail').focus());
}

function closeDetail() {
  const prev = state.selected;
  state.selected = null;
  detailKey = '';
  logView.reset();
  updateHash();
  scheduleRender();
  if (prev)
    requestAnimationFrame(() => document.querySelector(`tr[data-job-id="${CSS.escape(prev)}"] a`)?.focus());
}

function renderDetail() {
  const panel = $('detail');
  const ws = $('workspace');
  if (!state.selected) {
    panel.hidden = true;
    ws.classList.remove('has-detail');
    return;
  }
  panel.hidden = false;
  ws.classList.add('has-detail');
  const d = selectedDetail();
  const row = state.jobs.get(state.selected);
  // Rebuild only when something shown changed, so focus and scroll positions survive.
  const key = JSON.stringify([
    d ?? null,
    row?.status,
    state.tab,
    children.byIndex.size,
    children.loading,
    depStatuses(d),
  ]);
  if (key === detailKey) {
    logView.sync(d);
    return;
  }
  const focusedId =
    document.activeElement && panel.contains(document.activeElement) ? document.activeElement.id : '';
  const scroller = panel.querySelector('.tabpanel:not(.logs-panel)');
  const scrollTop = scroller?.scrollTop ?? 0;
  detailKey = key;

  if (!d) {
    panel.replaceChildren(
      h(
        'div',
        { class: 'detail-head' },
        h(
          'div',
          { class: 'detail-title-row' },
          h('h2', { id: 'detail-title', text: row?.jobName ?? state.selected }),
          closeButton(),
        ),
      ),
      h('div', { class: 'tabpanel' }, h('p', { class: 'muted', text: 'Loading job…' })),
    );
    return;
  }
  const status = d.status;
  const isParent = d.arrayProperties?.size !== undefined && d.arrayProperties?.index === undefined;
  const head = h(
    'div',
    { class: 'detail-head' },
    h('div', { class: 'detail-title-row' }, h('h2', { id: 'detail-title', text: d.jobName }), closeButton()),
    h(
      'div',
      { class: 'detail-sub' },
      statusPill(status),
      h('span', { class: 'mono', text: d.jobId }),
      h('button', {
        type: 'button',
        class: 'btn btn-ghost btn-sm',
        id: 'copy-id',
        onclick: (ev) => copyText(d.jobId, ev.currentTarget),
        text: 'Copy',
        'aria-label': 'Copy job id',
      }),
    ),
    h(
      'div',
      { class: 'detail-actions' },
      h('button', {
        type: 'button',
        class: 'btn btn-outline-danger btn-sm',
        id: 'btn-cancel',
        disabled: !CANCELLABLE.has(status),
        title: CANCELLABLE.has(status)
          ? 'Cancel this job before it starts'
          : 'Only SUBMITTED, PENDING and RUNNABLE jobs can be cancelled',
        onclick: () => askReason('cancel', d),
        text: 'Cancel job',
      }),
      h('button', {
        type: 'button',
        class: 'btn btn-outline-danger btn-sm',
        id: 'btn-terminate',
        disabled: !ACTIVE.has(status),
        title: ACTIVE.has(status) ? 'Terminate this job, stopping it if it runs' : 'The job has finished',
        onclick: () => askReason('terminate', d),
        text: 'Terminate job',
      }),
    ),
    h(
      'div',
      { class: 'tabs', role: 'tablist', 'aria-label': 'Job detail' },
      tabButton('overview', 'Overview'),
      tabButton('logs', isParent ? 'Logs' : 'Logs'),
    ),
  );
  const body =
    state.tab === 'logs'
      ? logView.element(d)
      : h(
          'div',
          {
            class: 'tabpanel',
            role: 'tabpanel',
            id: 'tab-overview',
            'aria-labelledby': 'tabbtn-overview',
            tabindex: '0',
          },
          ...overview(d, isParent),
        );
  panel.replaceChildren(head, body);
  if (state.tab === 'logs') {
    logView.restoreScroll();
    logView.sync(d);
  } else {
    const sc = panel.querySelector('.tabpanel');
    if (sc) sc.scrollTop = scrollTop;
  }
  if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
}

function closeButton() {
  return h('button', {
    type: 'button',
    class: 'btn btn-ghost btn-icon',
    id: 'detail-close',
    'aria-label': 'Close job detail (Esc)',
    title: 'Close (Esc)',
    onclick: closeDetail,
    text: '✕',
  });
}

function tabButton(id, label) {
  const selected = state.tab === id;
  return h('button', {
    type: 'button',
    class: 'tab',
    role: 'tab',
    id: `tabbtn-${id}`,
    'aria-selected': String(selected),
    'aria-controls': `tab-${id}`,
    tabindex: selected ? '0' : '-1',
    text: label,
    onclick: () => {
      state.tab = id;
      updateHash();
      scheduleRender();
    },
    onkeydown: (ev) => {
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        state.tab = state.tab === 'overview' ? 'logs' : 'overview';
        updateHash();
        render();
        $(`tabbtn-${state.tab}`)?.focus();
      }
    },
  });
}

function depStatuses(d) {
  return (d?.dependsOn ?? []).map(
    (x) => state.jobs.get(x.jobId)?.status ?? detailCache.get(x.jobId)?.status ?? '?',
  );
}

function overview(d, isParent) {
  const c = d.container ?? {};
  const attempts = d.attempts ?? [];
  const out = [];
  const rr = Object.fromEntries((c.resourceRequirements ?? []).map((r) => [r.type, r.value]));
  const parentId = d.arrayProperties?.index !== undefined ? d.jobId.replace(/:\d+$/, '') : undefined;
  const kv = [
    ['Queue', queueName(d.jobQueue)],
    ['Definition', jdName(d.jobDefinition)],
    parentId ? ['Array parent', h('a', { href: hrefFor(parentId), text: parentId })] : null,
    parentId ? ['Array index', String(d.arrayProperties.index)] : null,
    [
      'Created',
      h('span', { title: iso(d.createdAt), text: `${fmtTime(d.createdAt)} (${fmtAgo(d.createdAt)})` }),
    ],
    ['Started', d.startedAt ? h('span', { title: iso(d.startedAt), text: fmtTime(d.startedAt) }) : '—'],
    ['Stopped', d.stoppedAt ? h('span', { title: iso(d.stoppedAt), text: fmtTime(d.stoppedAt) }) : '—'],
    [
      'Duration',
      d.startedAt
        ? h('span', {
            dataset: d.stoppedAt ? undefined : { since: String(d.startedAt) },
            text: fmtDuration((d.stoppedAt ?? now()) - d.startedAt),
          })
        : '—',
    ],
    ['Exit code', c.exitCode !== undefined ? String(c.exitCode) : '—'],
    ['Status reason', d.statusReason ?? '—'],
    c.reason ? ['Container reason', c.reason] : null,
    ['Attempts', `${attempts.length}${d.retryStrategy?.attempts ? ` of ${d.retryStrategy.attempts}` : ''}`],
    [
      'Resources',
      [rr.VCPU ?? c.vcpus, rr.MEMORY ?? c.memory, rr.GPU].some((v) => v !== undefined)
        ? `${rr.VCPU ?? c.vcpus ?? '?'} vCPU · ${rr.MEMORY ?? c.memory ?? '?'} MiB${rr.GPU ? ` · ${rr.GPU} GPU` : ''}`
        : '—',
    ],
    c.image ? ['Image', h('span', { class: 'mono', text: c.image })] : null,
    d.timeout?.attemptDurationSeconds
      ? ['Timeout', fmtDuration(d.timeout.attemptDurationSeconds * 1000)]
      : null,
    d.shareIdentifier ? ['Share', d.shareIdentifier] : null,
  ].filter(Boolean);
  out.push(h('dl', { class: 'kv' }, ...kv.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])));

  if (isParent) out.push(...arraySection(d));

  if ((d.dependsOn ?? []).length) {
    out.push(h('h3', { text: 'Depends on' }));
    out.push(
      h(
        'ul',
        { class: 'deps' },
        ...d.dependsOn.map((dep) => {
          const st = state.jobs.get(dep.jobId)?.status ?? detailCache.get(dep.jobId)?.status;
          const nm = state.jobs.get(dep.jobId)?.jobName ?? detailCache.get(dep.jobId)?.jobName;
          return h(
            'li',
            {},
            st ? statusPill(st) : null,
            h('a', { href: hrefFor(dep.jobId), class: 'mono', text: dep.jobId }),
            nm ? h('span', { text: nm }) : null,
            dep.type ? h('span', { class: 'badge', text: dep.type }) : null,
          );
        }),
      ),
    );
  }

  out.push(h('h3', { text: `Attempts (${attempts.length})` }));
  if (!attempts.length) {
    out.push(
      h('p', {
        class: 'muted small',
        text: ACTIVE.has(d.status) ? 'No finished attempt yet.' : 'The job never ran.',
      }),
    );
  } else {
    out.push(
      h(
        'table',
        { class: 'mini', id: 'attempts' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['#', 'Started', 'Stopped', 'Duration', 'Exit', 'Reason', ''].map((t) =>
              h('th', { scope: 'col', text: t }),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...attempts.map((a, i) =>
            h(
              'tr',
              {},
              h('td', { text: String(i + 1) }),
              h('td', { title: iso(a.startedAt), text: fmtTime(a.startedAt) }),
              h('td', { title: iso(a.stoppedAt), text: fmtTime(a.stoppedAt) }),
              h('td', { text: a.startedAt && a.stoppedAt ? fmtDuration(a.stoppedAt - a.startedAt) : '' }),
              h('td', {
                class: a.container?.exitCode ? 'exit-bad' : '',
                text: a.container?.exitCode !== undefined ? String(a.container.exitCode) : '',
              }),
              h('td', {
                class: 'wrap',
                text: [a.statusReason, a.container?.reason].filter(Boolean).join(' — '),
              }),
              h(
                'td',
                {},
                a.container?.logStreamName
                  ? h('button', {
                      type: 'button',
                      class: 'btn btn-ghost btn-sm',
                      text: 'Logs',
                      onclick: () => showLogs(a.container.logStreamName),
                    })
                  : null,
              ),
            ),
          ),
        ),
      ),
    );
  }

  out.push(h('h3', { text: 'Command' }));
  out.push(
    h('pre', { class: 'code', text: (c.command ?? []).length ? shellJoin(c.command) : '(image default)' }),
  );
  const params = Object.entries(d.parameters ?? {});
  if (params.length) {
    out.push(h('h3', { text: 'Parameters' }));
    out.push(kvTable(params));
  }
  const env = (c.environment ?? []).map((e) => [e.name, e.value]);
  out.push(h('h3', { text: `Environment (${env.length})` }));
  out.push(
    env.length
      ? kvTable(env)
      : h('p', { class: 'muted small', text: 'No environment variables set by the job.' }),
  );
  const tags = Object.entries(d.tags ?? {});
  if (tags.length) {
    out.push(h('h3', { text: 'Tags' }));
    out.push(kvTable(tags));
  }
  out.push(h('h3', { text: 'ARN' }));
  out.push(h('p', { class: 'mono small', text: d.jobArn }));
  return out;
}

function kvTable(entries) {
  return h(
    'table',
    { class: 'mini' },
    h(
      'tbody',
      {},
      ...entries.map(([k, v]) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row', class: 'mono', text: k }),
          h('td', { class: 'wrap mono', text: String(v ?? '') }),
        ),
      ),
    ),
  );
}

function shellJoin(argv) {
  return argv
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${String(a).replaceAll("'", `'\\''`)}'`))
    .join(' ');
}

function arraySection(d) {
  const size = d.arrayProperties.size;
  const sum = d.arrayProperties.statusSummary ?? {};
  const out = [h('h3', { text: `Array children (${size})` })];
  const total = STATUSES.reduce((a, s) => a + (sum[s] ?? 0), 0) || size;
  out.push(
    h(
      'div',
      {
        class: 'stackbar',
        role: 'img',
        'aria-label':
          STATUSES.filter((s) => sum[s])
            .map((s) => `${sum[s]} ${s}`)
            .join(', ') || 'no children yet',
      },
      ...STATUSES.filter((s) => sum[s]).map((s) =>
        h('span', {
          dataset: { s },
          title: `${s}: ${sum[s]}`,
          style: { width: `${(sum[s] / total) * 100}%` },
        }),
      ),
    ),
  );
  out.push(
    h(
      'div',
      { class: 'legend' },
      ...STATUSES.map((s) =>
        h(
          'span',
          { dataset: { s } },
          h('span', { class: 'dot', 'aria-hidden': 'true' }),
          s.toLowerCase(),
          ' ',
          h('b', { text: String(sum[s] ?? 0) }),
        ),
      ),
    ),
  );
  if (children.parentId !== d.jobId && !children.loading) scheduleChildrenReload(0);
  if (children.byIndex.size) {
    const shown = Math.min(size, 1000);
    const grid = h('div', { class: 'child-grid', 'aria-label': 'Children by index' });
    for (let i = 0; i < shown; i++) {
      const st = children.byIndex.get(i);
      grid.append(
        h('a', {
          href: hrefFor(`${d.jobId}:${i}`),
          tabindex: '-1',
          dataset: st ? { s: st } : undefined,
          title: `#${i} ${st ?? ''}`,
          'aria-label': `child ${i} ${st ?? ''}`,
        }),
      );
    }
    out.push(grid);
    if (size > shown)
      out.push(h('p', { class: 'muted small', text: `First ${shown} of ${size} children shown.` }));
  }
  const input = h('input', {
    type: 'number',
    min: '0',
    max: String(size - 1),
    id: 'child-index',
    placeholder: 'index',
    'aria-label': 'Child index',
  });
  out.push(
    h(
      'form',
      {
        class: 'child-open',
        onsubmit: (ev) => {
          ev.preventDefault();
          const i = Number(input.value);
          if (Number.isInteger(i) && i >= 0 && i < size) openJob(`${d.jobId}:${i}`);
        },
      },
      h('label', { for: 'child-index', class: 'muted small', text: 'Open child' }),
      input,
      h('button', { type: 'submit', class: 'btn btn-sm', text: 'Open' }),
    ),
  );
  return out;
}

function scheduleChildrenReload(delay = 1500) {
  if (childrenTimer) return;
  childrenTimer = setTimeout(loadChildren, delay);
}

async function loadChildren() {
  childrenTimer = 0;
  const parentId = state.selected;
  if (!parentId) return;
  children.loading = true;
  try {
    const byIndex = new Map();
    await pool(STATUSES, 4, async (status) => {
      const list = await listAll(
        'ListJobs',
        'jobSummaryList',
        { arrayJobId: parentId, jobStatus: status, maxResults: 1000 },
        1000,
      );
      for (const s of list) {
        const idx = s.arrayProperties?.index ?? Number(String(s.jobId).split(':').pop());
        if (Number.isInteger(idx)) byIndex.set(idx, s.status);
      }
    });
    if (state.selected === parentId) children = { parentId, byIndex, loading: false };
  } catch (err) {
    children.loading = false;
    console.warn('children', err);
  }
  scheduleRender();
}

// ------------------------------------------------------------------------------------------------
// Log viewer
// ------------------------------------------------------------------------------------------------

function logStreamsOf(d) {
  const streams = [];
  (d.attempts ?? []).forEach((a, i) => {
    if (a.container?.logStreamName)
      streams.push({ label: `Attempt ${i + 1}`, stream: a.container.logStreamName, attempt: i + 1 });
  });
  const cur = d.container?.logStreamName;
  if (cur && !streams.some((s) => s.stream === cur))
    streams.push({
      label: `Attempt ${streams.length + 1} (current)`,
      stream: cur,
      attempt: streams.length + 1,
      current: true,
    });
  return streams;
}

function logGroupOf(d) {
  return d.container?.logConfiguration?.options?.['awslogs-group'] ?? DEFAULT_LOG_GROUP;
}

const logView = {
  jobId: null,
  stream: null,
  pinnedStream: null,
  token: undefined,
  lines: 0,
  timer: 0,
  loading: false,
  follow: true,
  showTs: true,
  wrap: false,
  missing: false,
  finalFetched: false,
  autoScrolling: false,
  el: null,
  pre: null,
  statusEl: null,
  statusText: '',
  gen: 0,

  reset() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.gen++;
    this.jobId = null;
    this.stream = null;
    this.pinnedStream = null;
    this.token = undefined;
    this.lines = 0;
    this.missing = false;
    this.finalFetched = false;
    this.statusText = '';
    this.el = null;
    this.pre = null;
  },

  newPre() {
    const pre = h('div', {
      class: `log${this.showTs ? '' : ' no-ts'}${this.wrap ? ' wrap' : ''}`,
      id: 'log',
      role: 'log',
      'aria-label': 'Job output',
      tabindex: '0',
    });
    pre.addEventListener('scroll', () => {
      if (this.autoScrolling) return;
      const atEnd = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
      this.savedScroll = pre.scrollTop;
      if (!atEnd && this.follow && this.lines > 0) {
        this.follow = false;
        const cb = $('log-follow');
        if (cb) cb.checked = false;
      }
    });
    return pre;
  },

  element(d) {
    const streams = logStreamsOf(d);
    if (this.jobId !== d.jobId) {
      this.reset();
      this.jobId = d.jobId;
    }
    const wanted =
      this.pinnedStream && streams.some((s) => s.stream === this.pinnedStream)
        ? this.pinnedStream
        : (streams[streams.length - 1]?.stream ?? null);
    if (wanted !== this.stream) {
      clearTimeout(this.timer);
      this.timer = 0;
      this.gen++;
      this.stream = wanted;
      this.token = undefined;
      this.lines = 0;
      this.missing = false;
      this.finalFetched = false;
      this.statusText = '';
      this.pre = null;
    }
    this.pre ??= this.newPre();
    const select = h(
      'select',
      {
        id: 'log-stream',
        'aria-label': 'Attempt',
        disabled: streams.length < 2,
        onchange: (ev) => {
          this.pinnedStream = ev.target.value;
          detailKey = '';
          scheduleRender();
        },
      },
      ...streams.map((s) =>
        h('option', { value: s.stream, selected: s.stream === this.stream, text: s.label }),
      ),
    );
    const follow = h('input', {
      type: 'checkbox',
      id: 'log-follow',
      checked: this.follow,
      onchange: (ev) => {
        this.follow = ev.target.checked;
        if (this.follow) this.scrollToEnd();
        this.sync(selectedDetail());
      },
    });
    const ts = h('input', {
      type: 'checkbox',
      id: 'log-ts',
      checked: this.showTs,
      onchange: (ev) => {
        this.showTs = ev.target.checked;
        this.pre.classList.toggle('no-ts', !this.showTs);
      },
    });
    const wrap = h('input', {
      type: 'checkbox',
      id: 'log-wrap',
      checked: this.wrap,
      onchange: (ev) => {
        this.wrap = ev.target.checked;
        this.pre.classList.toggle('wrap', this.wrap);
      },
    });
    const download = h('button', {
      type: 'button',
      class: 'btn btn-ghost btn-sm',
      id: 'log-download',
      text: 'Download',
      onclick: () => this.download(d),
    });
    this.statusEl = h('div', { class: 'log-status', 'aria-live': 'off', text: this.statusText });
    const isParent = d.arrayProperties?.size !== undefined && d.arrayProperties?.index === undefined;
    if (!this.stream && !this.pre.querySelector('.log-note')) {
      const note = isParent
        ? 'An array parent has no output of its own: open a child from the Overview tab.'
        : ACTIVE.has(d.status)
          ? 'Waiting for the job to start…'
          : 'This job has no log stream (it never ran).';
      this.pre.append(h('div', { class: 'log-note', text: note }));
    }
    this.el = h(
      'div',
      { class: 'tabpanel logs-panel', role: 'tabpanel', id: 'tab-logs', 'aria-labelledby': 'tabbtn-logs' },
      h(
        'div',
        { class: 'log-toolbar' },
        select,
        h('label', { for: 'log-follow' }, follow, 'Follow'),
        h('label', { for: 'log-ts' }, ts, 'Timestamps'),
        h('label', { for: 'log-wrap' }, wrap, 'Wrap'),
        h('span', { class: 'spacer' }),
        download,
      ),
      this.pre,
      this.statusEl,
    );
    return this.el;
  },

  /** Starts or stops fetching for the job's current state. */
  sync(d) {
    if (!d || !this.el || state.tab !== 'logs' || d.jobId !== this.jobId) return;
    if (!this.stream) {
      // The first attempt's stream appears once the job starts.
      if (logStreamsOf(d).length) {
        detailKey = '';
        scheduleRender();
      }
      return;
    }
    if (!this.loading && !this.timer) void this.fetch(d);
  },

  async fetch(d) {
    const gen = this.gen;
    this.loading = true;
    let more = true;
    try {
      while (more && gen === this.gen) {
        const body = {
          logGroupName: logGroupOf(d),
          logStreamName: this.stream,
          startFromHead: true,
          limit: 10_000,
        };
        if (this.token) body.nextToken = this.token;
        let r;
        try {
          r = await logsApi('GetLogEvents', body);
          this.missing = false;
        } catch (err) {
          if (err.type === 'ResourceNotFoundException') {
            this.missing = true;
            break;
          }
          throw err;
        }
        if (gen !== this.gen) return;
        const events = r.events ?? [];
        if (events.length) this.append(events);
        more = events.length > 0 && r.nextForwardToken && r.nextForwardToken !== this.token;
        if (r.nextForwardToken) this.token = r.nextForwardToken;
      }
    } catch (err) {
      if (gen === this.gen) this.setStatus(`Could not load logs: ${err.message}`);
    } finally {
      if (gen === this.gen) this.loading = false;
    }
    if (gen !== this.gen) return;
    const cur = selectedDetail() ?? d;
    const running = ACTIVE.has(cur.status) && cur.jobId === this.jobId;
    const isCurrent = logStreamsOf(cur).at(-1)?.stream === this.stream;
    this.setStatus(
      `${this.lines.toLocaleString()} line${this.lines === 1 ? '' : 's'} · ${this.stream}` +
        (this.missing ? ' · no output yet' : '') +
        (running && isCurrent ? (this.follow ? ' · following' : ' · follow paused') : ''),
    );
    if (this.lines === 0 && this.pre && !this.pre.querySelector('.log-note')) {
      this.pre.append(h('div', { class: 'log-note', text: running ? 'Waiting for output…' : 'No output.' }));
    }
    // Follow while the job runs (and once more after it ends, to catch the last lines).
    if ((running && isCurrent && this.follow) || (!running && !this.finalFetched)) {
      if (!running) this.finalFetched = true;
      this.timer = setTimeout(
        () => {
          this.timer = 0;
          if (gen === this.gen && state.tab === 'logs') void this.fetch(selectedDetail() ?? cur);
        },
        running ? LOG_FOLLOW_MS : 600,
      );
    } else if (running) {
      this.finalFetched = false;
    }
  },

  append(events) {
    const frag = document.createDocumentFragment();
    for (const e of events) {
      const text = String(e.message ?? '').replace(/\n$/, '');
      frag.append(
        h(
          'div',
          { class: 'line' },
          h('span', { class: 'ts', text: fmtLogTs(e.timestamp) }),
          h('span', { class: 'msg', text }),
        ),
      );
    }
    this.pre.querySelectorAll('.log-note').forEach((n) => n.remove());
    this.pre.append(frag);
    this.lines += events.length;
    // Keep memory bounded: drop the oldest lines beyond the limit.
    const extra = this.pre.childElementCount - LOG_MAX_LINES;
    if (extra > 0) for (let i = 0; i < extra; i++) this.pre.firstElementChild?.remove();
    if (this.follow) this.scrollToEnd();
  },

  scrollToEnd() {
    if (!this.pre) return;
    this.autoScrolling = true;
    this.pre.scrollTop = this.pre.scrollHeight;
    requestAnimationFrame(() => (this.autoScrolling = false));
  },

  setStatus(text) {
    this.statusText = text;
    if (this.statusEl) this.statusEl.textContent = text;
  },

  /** After the panel was rebuilt around the kept log element: restore its scroll position. */
  restoreScroll() {
    if (!this.pre) return;
    if (this.follow) this.scrollToEnd();
    else if (this.savedScroll !== undefined) this.pre.scrollTop = this.savedScroll;
  },

  download(d) {
    const lines = [...(this.pre?.querySelectorAll('.line') ?? [])].map(
      (l) => `${l.querySelector('.ts').textContent}\t${l.querySelector('.msg').textContent}`,
    );
    const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/plain' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `${d.jobName}-${d.jobId}.log` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  },
};

function fmtLogTs(ms) {
  if (!ms) return '';
  const d = new Date(ms);
  return `${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function showLogs(stream) {
  logView.pinnedStream = stream;
  state.tab = 'logs';
  detailKey = '';
  updateHash();
  scheduleRender();
}

// ------------------------------------------------------------------------------------------------
// Cancel / terminate
// ------------------------------------------------------------------------------------------------

function askReason(kind, d) {
  const dlg = $('reason-dialog');
  const verb = kind === 'cancel' ? 'Cancel' : 'Terminate';
  $('reason-title').textContent = `${verb} ${d.jobName}?`;
  $('reason-help').textContent =
    kind === 'cancel'
      ? 'The job has not started; it will move to FAILED and never run. Jobs that depend on it fail too.'
      : 'A running job is stopped (SIGTERM, then SIGKILL); a waiting job moves to FAILED. Retries are not attempted.';
  const input = $('reason-input');
  const past = kind === 'cancel' ? 'Cancelled' : 'Terminated';
  input.value = `${past} from the dashboard`;
  $('reason-ok').textContent = `${verb} job`;
  dlg.returnValue = '';
  dlg.onclose = async () => {
    if (dlg.returnValue !== 'ok') return;
    const reason = input.value.trim() || `${past} from the dashboard`;
    try {
      await batch(kind === 'cancel' ? 'CancelJob' : 'TerminateJob', { jobId: d.jobId, reason });
      toast(`${verb} requested for ${d.jobName}`);
      await describeSoon([d.jobId]);
    } catch (err) {
      toast(`${verb} failed: ${err.message}`, true);
    }
  };
  dlg.showModal();
  input.select();
}

// ------------------------------------------------------------------------------------------------
// Filters, URL hash, keyboard
// ------------------------------------------------------------------------------------------------

function hrefFor(jobId) {
  const p = new URLSearchParams();
  if (state.filters.queue) p.set('queue', state.filters.queue);
  if (state.filters.status) p.set('status', state.filters.status);
  if (state.filters.name) p.set('q', state.filters.name);
  if (jobId) p.set('job', jobId);
  return `#${p.toString()}`;
}

function updateHash() {
  let href = hrefFor(state.selected);
  if (state.selected && state.tab === 'logs') href += '&tab=logs';
  if (location.hash !== href && !(href === '#' && !location.hash))
    history.replaceState(null, '', href === '#' ? location.pathname : href);
}

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  state.filters.queue = p.get('queue') ?? '';
  state.filters.status = STATUSES.includes(p.get('status')) ? p.get('status') : '';
  state.filters.name = p.get('q') ?? '';
  const job = p.get('job');
  const tab = p.get('tab') === 'logs' ? 'logs' : undefined;
  if (job && (job !== state.selected || (tab && tab !== state.tab))) openJob(job, { tab });
  else if (!job && state.selected) closeDetail();
}

let nameTimer = 0;
function setFilters(patch) {
  const nameChanged = patch.name !== undefined && patch.name !== state.filters.name;
  Object.assign(state.filters, patch);
  state.rowLimit = ROW_PAGE;
  updateHash();
  scheduleRender();
  if (nameChanged) {
    clearTimeout(nameTimer);
    nameTimer = setTimeout(() => void refreshAll(), 400);
  }
}

function moveRowFocus(delta) {
  const links = [...document.querySelectorAll('#job-rows tr a.job-name')];
  if (!links.length) return;
  const cur = links.indexOf(document.activeElement);
  let i = cur < 0 ? links.findIndex((a) => a.closest('tr').dataset.jobId === state.selected) : cur + delta;
  if (cur < 0 && i < 0) i = 0;
  i = Math.max(0, Math.min(links.length - 1, i));
  links[i].focus();
  links[i].closest('tr').scrollIntoView({ block: 'nearest' });
}

function onKey(ev) {
  const t = ev.target;
  const typing =
    t instanceof HTMLInputElement ||
    t instanceof HTMLTextAreaElement ||
    t instanceof HTMLSelectElement ||
    t?.isContentEditable;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (document.querySelector('dialog[open]')) return;
  if (ev.key === 'Escape') {
    if (typing && t.id === 'f-name' && t.value) {
      t.value = '';
      setFilters({ name: '' });
      return;
    }
    if (state.selected) {
      ev.preventDefault();
      closeDetail();
    }
    return;
  }
  if (typing) return;
  const inTable = t?.closest?.('#job-rows');
  switch (ev.key) {
    case '/':
      ev.preventDefault();
      $('f-name').focus();
      $('f-name').select();
      break;
    case 'j':
    case 'ArrowDown':
      if (ev.key === 'ArrowDown' && !inTable) return;
      ev.preventDefault();
      moveRowFocus(1);
      break;
    case 'k':
    case 'ArrowUp':
      if (ev.key === 'ArrowUp' && !inTable) return;
      ev.preventDefault();
      moveRowFocus(-1);
      break;
    case 'r':
      void refreshAll();
      break;
    case 'l':
      if (state.selected) {
        state.tab = 'logs';
        updateHash();
        scheduleRender();
      }
      break;
    case 'f':
      if (state.selected && state.tab === 'logs') {
        logView.follow = !logView.follow;
        const cb = $('log-follow');
        if (cb) cb.checked = logView.follow;
        if (logView.follow) logView.scrollToEnd();
        logView.sync(selectedDetail());
      }
      break;
    case '?':
      $('help-dialog').showModal();
      break;
    default:
  }
}

// ------------------------------------------------------------------------------------------------
// Toasts, clocks, boot
// ------------------------------------------------------------------------------------------------

function toast(text, error = false) {
  const el = h('div', { class: `toast${error ? ' error' : ''}`, role: error ? 'alert' : 'status', text });
  $('toasts').append(el);
  setTimeout(() => el.remove(), error ? 8000 : 4000);
}

function tickDurations() {
  for (const el of document.querySelectorAll('[data-since]'))
    el.textContent = fmtDuration(now() - Number(el.dataset.since));
}

function boot() {
  readHash();
  $('f-queue').addEventListener('change', (ev) => setFilters({ queue: ev.target.value }));
  $('f-status').addEventListener('change', (ev) => setFilters({ status: ev.target.value }));
  $('f-name').addEventListener('input', (ev) => setFilters({ name: ev.target.value }));
  $('filters').addEventListener('submit', (ev) => ev.preventDefault());
  $('f-clear').addEventListener('click', () => setFilters({ queue: '', status: '', name: '' }));
  $('refresh').addEventListener('click', () => void refreshAll());
  $('help-btn').addEventListener('click', () => $('help-dialog').showModal());
  $('show-more').addEventListener('click', () => {
    state.rowLimit += ROW_PAGE;
    scheduleRender();
    void refreshAll();
  });
  $('load-older').addEventListener('click', () => {
    state.recentPages++;
    void refreshAll();
  });
  $('reason-back').addEventListener('click', () => $('reason-dialog').close('back'));
  $('reason-input').addEventListener('keydown', (ev) => {
    // Enter confirms (reasons are one line); Shift+Enter adds a line break.
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $('reason-form').requestSubmit($('reason-ok'));
    }
  });
  $('reason-form').addEventListener('submit', (ev) => {
    if (ev.submitter?.id === 'reason-ok' && !$('reason-input').value.trim()) ev.preventDefault();
  });
  $('job-rows').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-job-id]');
    if (!tr) return;
    if (ev.target.closest('a') && (ev.ctrlKey || ev.metaKey || ev.shiftKey)) return; // open in new tab
    ev.preventDefault();
    openJob(tr.dataset.jobId);
  });
  window.addEventListener('hashchange', readHash);
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refreshAll();
    schedulePoll();
  });
  setInterval(tickDurations, 1000);
  fetch('/health', { cache: 'no-store' })
    .then((r) => r.json())
    .then((hh) => {
      $('server-info').textContent =
        `openbatch ${hh.version ?? ''} · node ${hh.nodeId ?? ''} · store ${hh.store ?? ''}`;
    })
    .catch(() => {});
  scheduleRender();
  void refreshAll();
  connectEvents();
  schedulePoll();
}

boot();
