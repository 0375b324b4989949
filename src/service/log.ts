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

/**
 * A message made safe for one log line: C0 and C1 control characters, DEL
 * the Unicode line separators and bidi controls are written as escapes (`\n`, `\r`,
 * `\t`, else `\x1b` / `\u2028`), so a file name cannot clear the terminal,
 * move the cursor or forge a second log line.
 */
export function escapeControl(message: string): string {
  // Bidi controls too: they make a name read differently from what it is.
  return message.replace(/[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g, c => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
    }
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

/** `log`, with every message passed through `escapeControl`. */
export function escapingLogger(log: ILogger): ILogger {
  return {
    debug: m => log.debug(escapeControl(m)),
    info: m => log.info(escapeControl(m)),
    warn: m => log.warn(escapeControl(m)),
    error: m => log.error(escapeControl(m))
  };
}

/** Console logger: progress on stdout, problems on stderr, with a clock. */
export function consoleLogger(verbose: boolean): ILogger {
  const stamp = () => new Date().toISOString().slice(11, 19);
  return {
    // Escaped: file names and file contents must not drive the terminal.
    debug: m => verbose && process.stdout.write(`${stamp()}  ${escapeControl(m)}\n`),
    info: m => process.stdout.write(`${stamp()}  ${escapeControl(m)}\n`),
    warn: m => process.stderr.write(`${stamp()}  warning: ${escapeControl(m)}\n`),
    error: m => process.stderr.write(`${stamp()}  error: ${escapeControl(m)}\n`)
  };
}
