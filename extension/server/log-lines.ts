/** The levels of a VS Code LogOutputChannel, lowest first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

interface PinoLine {
  level?: unknown;
  msg?: unknown;
  /** A pipeline runner's output line, relayed by the server. */
  runner?: unknown;
  reqId?: unknown;
  res?: { statusCode?: unknown };
  req?: { method?: unknown; url?: unknown };
  err?: { message?: unknown };
}

/** pino's numeric level (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal) as a channel level. */
export function channelLevel(pinoLevel: number): LogLevel {
  if (pinoLevel <= 10) return 'trace';
  if (pinoLevel <= 20) return 'debug';
  if (pinoLevel <= 30) return 'info';
  if (pinoLevel <= 40) return 'warn';
  return 'error';
}

/**
 * One line of the server's output as a leveled log line: pino JSON lines keep their level and read
 * as text; anything else (a crash's stack trace, a Node warning) is logged as it is at `fallback`.
 */
export function serverLogLine(line: string, fallback: LogLevel): { level: LogLevel; text: string } {
  let entry: PinoLine;
  try {
    entry = JSON.parse(line) as PinoLine;
  } catch {
    return { level: fallback, text: line };
  }
  if (typeof entry !== 'object' || entry === null || typeof entry.level !== 'number') return { level: fallback, text: line };
  const parts = [
    entry.msg,
    entry.runner,
    entry.req ? `${String(entry.req.method)} ${String(entry.req.url)}` : undefined,
    entry.res?.statusCode,
    entry.err?.message,
    entry.reqId ? `(${String(entry.reqId)})` : undefined,
  ];
  const text = parts
    .filter((p) => p !== undefined && p !== '')
    .map(String)
    .join(' ');
  return { level: channelLevel(entry.level), text: text || line };
}
