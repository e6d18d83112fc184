import { describe, expect, it } from 'vitest';
import { Lifecycle, ShutdownRequested } from './lifecycle.js';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('Lifecycle', () => {
  it('stops the started parts in reverse order, once', async () => {
    const lifecycle = new Lifecycle();
    const stopped: string[] = [];
    for (const name of ['logs', 'database', 'web'])
      await lifecycle.step(
        name,
        () => name,
        (n) => void stopped.push(n),
      );
    await lifecycle.step('migrations', () => undefined);
    expect(lifecycle.running).toEqual(['logs', 'database', 'web']);
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    await lifecycle.stop();
    expect(stopped).toEqual(['web', 'database', 'logs']);
  });

  it('lets the step under way finish and stops it too, then refuses the next steps', async () => {
    const lifecycle = new Lifecycle();
    const stopped: string[] = [];
    const slow = deferred();
    await lifecycle.step(
      'logs',
      () => 'logs',
      (n) => void stopped.push(n),
    );
    const database = lifecycle.step(
      'database',
      async () => {
        await slow.promise;
        return 'database';
      },
      (n) => void stopped.push(n),
    );
    const stopping = lifecycle.stop();
    expect(lifecycle.stopRequested).toBe(true);
    slow.resolve();
    expect(await database).toBe('database');
    await stopping;
    expect(stopped).toEqual(['database', 'logs']);
    await expect(lifecycle.step('web', () => 'web')).rejects.toBeInstanceOf(ShutdownRequested);
  });

  it('runs every stop when one fails, and reports the first failure', async () => {
    const lifecycle = new Lifecycle();
    const stopped: string[] = [];
    await lifecycle.step(
      'logs',
      () => 'logs',
      (n) => void stopped.push(n),
    );
    await lifecycle.step(
      'database',
      () => 'database',
      () => {
        throw new Error('database would not close');
      },
    );
    await lifecycle.step(
      'web',
      () => 'web',
      (n) => void stopped.push(n),
    );
    await expect(lifecycle.stop()).rejects.toThrow('database would not close');
    expect(stopped).toEqual(['web', 'logs']);
  });

  it('registers no stop for a step that failed to start', async () => {
    const lifecycle = new Lifecycle();
    const stopped: string[] = [];
    await expect(
      lifecycle.step(
        'web',
        () => Promise.reject(new Error('port in use')),
        () => void stopped.push('web'),
      ),
    ).rejects.toThrow('port in use');
    await lifecycle.stop();
    expect(stopped).toEqual([]);
    expect(lifecycle.running).toEqual([]);
  });
});
