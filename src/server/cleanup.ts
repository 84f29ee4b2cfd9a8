/**
 * @module server/cleanup — the one place `weir serve` closes what it opened: each resource is
 * registered as soon as it exists, and `closeAll()` closes them last-registered first, whether
 * the start failed half-way or the server is shutting down (SIGTERM, SIGINT). Last-in first-out
 * is what makes it safe: what listens closes before what it uses (the gateway before its
 * snapshot source, the API before the store), and the log is flushed last.
 */

/** One thing to close, named for whoever reads the stack. */
interface Step {
  readonly name: string;
  readonly close: () => void | Promise<void>;
}

/** A last-in first-out stack of things to close. */
export class CleanupStack {
  readonly #steps: Step[] = [];

  /** Registers `close` to run at `closeAll()`, before everything registered earlier. */
  defer(name: string, close: () => void | Promise<void>): void {
    this.#steps.push({ name, close });
  }

  /**
   * Closes everything, last registered first, each once. A step that fails does not keep the
   * others from closing; the first failure is thrown once all have run.
   */
  async closeAll(): Promise<void> {
    const failures: unknown[] = [];
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      try {
        await step.close();
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  /**
   * Runs `start`, and closes what it registered when it throws; the error of `start` is
   * rethrown (a failure while closing after it would only hide it).
   */
  async unwindOnFailure<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (err) {
      await this.closeAll().catch(() => undefined);
      throw err;
    }
  }
}
