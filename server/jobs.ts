import type { Logger } from 'pino';

/**
 * A periodic background task that never overlaps itself and whose failures are logged,
 * not thrown (a failed sweep is retried at the next tick).
 */
export function startJob(name: string, everyMs: number, log: Logger, task: () => Promise<unknown>): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((err: unknown) => log.error({ err, job: name }, 'background job failed'))
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
