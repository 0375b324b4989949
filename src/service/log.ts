/**
 * The service's logger: one interface so parts can be tested with a silent or
 * recording logger, and the CLI decides how lines look.
 */
export interface ILogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: ILogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined
};

/** A logger that keeps every line, for assertions in tests. */
export class RecordingLogger implements ILogger {
  readonly lines: { level: string; message: string }[] = [];
  debug(message: string): void {
    this.lines.push({ level: 'debug', message });
  }
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  text(level?: string): string {
    return this.lines
      .filter(l => !level || l.level === level)
      .map(l => l.message)
      .join('\n');
  }
}
