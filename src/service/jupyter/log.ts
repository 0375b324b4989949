/**
 * Logging for the Jupyter helpers and conductors: accepts either a plain
 * function or a leveled logger (`{ debug, info, warn, error }`, like the
 * service's `ILogger`).
 */

export interface ILogSink {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A `log` option: a function receiving every line, or a leveled logger. */
export type LogOption = ((message: string) => void) | ILogSink;

/** Normalise a `log` option into a leveled logger (missing = silent). */
export function toLogSink(log?: LogOption): ILogSink {
  if (!log) {
    const drop = () => undefined;
    return { debug: drop, info: drop, warn: drop, error: drop };
  }
  if (typeof log === 'function') {
    return { debug: log, info: log, warn: log, error: log };
  }
  return log;
}
