import { describe, expect, it } from 'vitest';

import { isRetryableError, withRetry } from './retry.js';

describe('withRetry', () => {
  it('retries throttling, 5xx and connection refused, not client errors', async () => {
    expect(
      isRetryableError(
        Object.assign(new Error('x'), {
          name: 'TooManyRequestsException',
          $metadata: { httpStatusCode: 429 },
        }),
      ),
    ).toBe(true);
    expect(
      isRetryableError(
        Object.assign(new Error('x'), { name: 'ServerException', $metadata: { httpStatusCode: 500 } }),
      ),
    ).toBe(true);
    expect(
      isRetryableError(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
    ).toBe(true);
    expect(
      isRetryableError(
        Object.assign(new Error('x'), { name: 'ClientException', $metadata: { httpStatusCode: 400 } }),
      ),
    ).toBe(false);
    const delays: number[] = [];
    let calls = 0;
    const v = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
        return 'ok';
      },
      { sleep: async (ms) => void delays.push(ms), random: () => 1, baseDelayMs: 100, maxDelayMs: 300 },
    );
    expect(v).toBe('ok');
    expect(delays).toEqual([100, 200, 300]);
    await expect(
      withRetry(
        async () =>
          Promise.reject(
            Object.assign(new Error('bad'), { name: 'ClientException', $metadata: { httpStatusCode: 400 } }),
          ),
        { sleep: async () => undefined },
      ),
    ).rejects.toThrow('bad');
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error('slow down'), { $metadata: { httpStatusCode: 503 } });
        },
        { maxAttempts: 3, sleep: async () => undefined },
      ),
    ).rejects.toThrow('slow down');
    expect(calls).toBe(3);
  });
});
