/**
 * @module store/postgres/listener
 * One dedicated LISTEN connection per store (outside the pool: LISTEN needs a session, which is also
 * why it can't go through PgBouncer transaction pooling). On connection loss it reconnects with
 * capped exponential backoff and re-LISTENs every channel; messages sent while disconnected are lost,
 * which is fine because notifications only shorten polling delays.
 */
import pg from 'pg';

type Handler = (payload: string) => void;

export class NotificationListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly handlers = new Map<string, Set<Handler>>();
  private closed = false;
  private backoffMs = 100;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly onError: (err: Error) => void,
  ) {}

  async subscribe(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    const first = !set;
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    const client = await this.connect();
    if (first) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return async () => {
      const s = this.handlers.get(channel);
      if (!s?.delete(handler) || s.size > 0) return;
      this.handlers.delete(channel);
      if (this.client && !this.closed)
        await this.client.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    };
  }

  private connect(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: this.url,
        application_name: 'openbatch-listener',
        keepAlive: true,
      });
      c.on('notification', (m) => {
        for (const h of this.handlers.get(m.channel) ?? []) h(m.payload ?? '');
      });
      c.on('error', (err) => {
        this.onError(err);
        this.dropAndRetry(c);
      });
      c.on('end', () => this.dropAndRetry(c));
      try {
        await c.connect();
        for (const ch of this.handlers.keys()) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
      } catch (err) {
        await c.end().catch(() => undefined);
        throw err;
      } finally {
        this.connecting = undefined;
      }
      this.client = c;
      this.backoffMs = 100;
      return c;
    })();
    return this.connecting;
  }

  private dropAndRetry(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = undefined;
    if (this.closed || this.handlers.size === 0) return;
    const retry = (): void => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.connect().catch((err: Error) => {
        this.onError(err);
        this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
        this.retryTimer = setTimeout(retry, this.backoffMs);
      });
    };
    this.retryTimer = setTimeout(retry, this.backoffMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}
