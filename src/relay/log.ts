// Relay logs: one line per event, JSON lines for machines or `pretty` for people.
// Callers pass only small scalar fields (ids, nameplates, codes, counts): the relay never has
// a secret digit, and tokens and payload bytes are never handed to the logger.

export type LogFormat = 'json' | 'pretty';
export type LogValue = string | number | boolean | null;
export type Logger = (event: string, fields?: Record<string, LogValue>) => void;

export function createLogger(format: LogFormat, write: (line: string) => void, clock: () => Date = () => new Date()): Logger {
  return (event, fields = {}) => {
    const time = clock().toISOString();
    if (format === 'json') {
      write(`${JSON.stringify({ time, event, ...fields })}\n`);
      return;
    }
    const parts = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`);
    write(`${time} ${event}${parts.length ? ` ${parts.join(' ')}` : ''}\n`);
  };
}

export const silentLogger: Logger = () => {};
