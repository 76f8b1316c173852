/**
 * @module core/scheduler/share-index
 * Per-share RUNNABLE lists of one fair-share queue, kept incrementally so a scheduling cycle never
 * sorts or copies every RUNNABLE job. Each share holds one FIFO array per schedulingPriority
 * level; iteration walks the levels from the highest priority down.
 *
 * The index follows the queue's FIFO list (an array sorted by submission that only grows by
 * insertion and is sometimes replaced by a compacted copy): `sync()` reads only the entries
 * appended since the last call, and rescans (a Set lookup per entry) when the list was compacted
 * or an entry was inserted before the old tail. Removals are lazy: an entry whose job is no
 * longer RUNNABLE in this queue is dropped when an iteration meets it.
 */

/** One entry of the queue's FIFO list (the engine's shape). */
export interface FifoEntry {
  readonly createdAt: number;
  readonly seq: number;
  readonly jobId: string;
}

/** Marks an entry dropped from the middle of a level. */
const DEAD: FifoEntry = Object.freeze({ createdAt: -1, seq: -1, jobId: '' });

interface Level {
  priority: number;
  items: FifoEntry[];
  head: number;
  dead: number;
}

class ShareList {
  /** Levels sorted by priority, descending. */
  levels: Level[] = [];

  add(e: FifoEntry, priority: number): void {
    let lv = this.levels.find((l) => l.priority === priority);
    if (!lv) {
      lv = { priority, items: [], head: 0, dead: 0 };
      let i = 0;
      while (i < this.levels.length && this.levels[i]!.priority > priority) i++;
      this.levels.splice(i, 0, lv);
    }
    let a = lv.items;
    const last = a[a.length - 1];
    if (last !== undefined && last !== DEAD && before(last, e)) {
      a.push(e);
      return;
    }
    if (lv.dead > 0) {
      a = lv.items = a.slice(lv.head).filter((x) => x !== DEAD);
      lv.head = 0;
      lv.dead = 0;
    }
    let lo = lv.head;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(a[mid]!, e)) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, e);
  }

  get empty(): boolean {
    return this.levels.length === 0;
  }
}

function before(a: FifoEntry, b: FifoEntry): boolean {
  return a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.seq <= b.seq);
}

export interface ShareOf {
  share: string;
  priority: number;
}

export class ShareIndex<T = unknown> {
  private readonly shares = new Map<string, ShareList>();
  /** One persistent iterable per share (what `lists()` returns), so a cycle allocates nothing per share. */
  private readonly views = new Map<string, Iterable<T>>();
  private live: (jobId: string) => T | undefined = () => undefined;
  private readonly indexed = new Set<string>();
  private source: readonly FifoEntry[] | undefined;
  private sourceLen = 0;
  private sourceTail: FifoEntry | undefined;

  /** Number of jobs indexed (live or not yet found stale). */
  get size(): number {
    return this.indexed.size;
  }

  /**
   * Bring the index up to date with the queue's FIFO list. `describe` returns the share and
   * priority of a job that is RUNNABLE in this queue, or undefined for a stale entry.
   */
  sync(entries: readonly FifoEntry[], describe: (jobId: string) => ShareOf | undefined): void {
    let from = 0;
    if (
      entries === this.source &&
      this.sourceLen <= entries.length &&
      (this.sourceLen === 0 || entries[this.sourceLen - 1] === this.sourceTail)
    ) {
      from = this.sourceLen; // only appends since last time
    }
    for (let i = from; i < entries.length; i++) {
      const e = entries[i]!;
      if (this.indexed.has(e.jobId)) continue;
      const d = describe(e.jobId);
      if (!d) continue;
      let list = this.shares.get(d.share);
      if (!list) {
        this.shares.set(d.share, (list = new ShareList()));
        const share = d.share;
        this.views.set(share, { [Symbol.iterator]: () => this.iterate(share, this.live) });
      }
      list.add(e, d.priority);
      this.indexed.add(e.jobId);
    }
    this.source = entries;
    this.sourceLen = entries.length;
    this.sourceTail = entries[entries.length - 1];
  }

  /** Share identifiers with indexed jobs. */
  shareIds(): IterableIterator<string> {
    return this.shares.keys();
  }

  /**
   * Per-share lists for a `QueueView.shares`: each yields `live(jobId)` for the share's jobs in
   * share order. The map is kept up to date by `sync` (no per-cycle allocation).
   */
  lists(live: (jobId: string) => T | undefined): ReadonlyMap<string, Iterable<T>> {
    this.live = live;
    return this.views;
  }

  /**
   * The share's jobs in share order (priority descending, then FIFO), lazily; `live` maps a job id
   * to the value to yield, or undefined when the job left the queue (the entry is then dropped).
   */
  *iterate<U>(share: string, live: (jobId: string) => U | undefined): Generator<U> {
    const list = this.shares.get(share);
    if (!list) return;
    for (let li = 0; li < list.levels.length; li++) {
      const lv = list.levels[li]!;
      let atHead = true;
      for (let i = lv.head; i < lv.items.length; i++) {
        const e = lv.items[i]!;
        if (e === DEAD) continue;
        const v = live(e.jobId);
        if (v === undefined) {
          this.indexed.delete(e.jobId);
          if (atHead) lv.head = i + 1;
          else {
            lv.items[i] = DEAD;
            lv.dead++;
          }
          continue;
        }
        atHead = false;
        yield v;
      }
      this.tidy(lv);
    }
    // Drop empty levels and shares (iteration may have stopped early: only check what is known).
    list.levels = list.levels.filter((l) => l.head < l.items.length);
    if (list.empty) {
      this.shares.delete(share);
      this.views.delete(share);
    }
  }

  private tidy(lv: Level): void {
    const live = lv.items.length - lv.head - lv.dead;
    if (lv.head > 1024 && lv.head * 2 > lv.items.length) {
      lv.items = lv.items.slice(lv.head);
      lv.head = 0;
    }
    if (lv.dead > 64 && lv.dead > live) {
      lv.items = lv.items.slice(lv.head).filter((e) => e !== DEAD);
      lv.head = 0;
      lv.dead = 0;
    }
  }
}
