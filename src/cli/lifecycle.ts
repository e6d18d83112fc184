/**
 * One shutdown routine for a process. Each part is started as a step that registers its stop;
 * `stop()` waits for the step under way, then stops every started part in reverse order, once.
 * A stop requested during startup (a signal while migrations run, say) refuses the steps that
 * follow with {@link ShutdownRequested}, so a process can be stopped at any stage of its startup
 * and ends with what it had started closed.
 */

/** Thrown by {@link Lifecycle.step} once a stop was requested: the startup is abandoned. */
export class ShutdownRequested extends Error {
  constructor(step: string) {
    super(`Stopping: "${step}" was not started.`);
    this.name = 'ShutdownRequested';
  }
}

type Stop = () => Promise<void> | void;

/** Started parts and their stops; see the module comment. */
export class Lifecycle {
  private readonly stops: Array<{ readonly name: string; readonly stop: Stop }> = [];
  private readonly pending = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;

  /** True once {@link stop} was called. */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Names of the parts running, in start order. */
  get running(): string[] {
    return this.stops.map((entry) => entry.name);
  }

  /**
   * Starts one part and registers its stop (when it has one). Refused with
   * {@link ShutdownRequested} once a stop was requested.
   */
  step<T>(name: string, start: () => Promise<T> | T, stop?: (started: T) => Promise<void> | void): Promise<T> {
    if (this.stopping !== undefined) return Promise.reject(new ShutdownRequested(name));
    const run = (async () => {
      const started = await start();
      if (stop !== undefined) this.stops.push({ name, stop: () => stop(started) });
      return started;
    })();
    const settled = run.catch(() => undefined).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
    return run;
  }

  /**
   * Stops every started part in reverse order, after the steps under way have finished; each stop
   * runs even when an earlier one failed, and the first failure is thrown at the end. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.pending);
      let failure: { error: unknown } | undefined;
      for (let entry = this.stops.pop(); entry !== undefined; entry = this.stops.pop()) {
        try {
          await entry.stop();
        } catch (error) {
          failure ??= { error };
        }
      }
      if (failure !== undefined) throw failure.error;
    })();
    return this.stopping;
  }
}
