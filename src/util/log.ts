// Structured JSON-lines logging. Callers pass only event names and non-secret fields: never a
// token, a sealed blob, a raw transaction or a submitter's address (SPEC §5).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(write: (line: string) => void, minLevel: LogLevel = 'info'): Logger {
  return {
    log(level, event, fields) {
      if (ORDER[level] < ORDER[minLevel]) return;
      write(JSON.stringify({ level, event, ...fields }) + '\n');
    },
  };
}

export const silentLogger: Logger = { log() {} };

/** Error details for logs: the message and code, never the objects hanging off it. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
