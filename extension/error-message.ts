import { errors, isMlopsError } from '../common/errors';

/**
 * What a failed command tells the user: the catalogue's message for our errors, a named cause for
 * the network's (fetch only says "fetch failed"), the message for anything else.
 */
export function errorMessage(err: unknown, serverUrl: string): string {
  if (isMlopsError(err)) return err.message;
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return `the MLOps server at ${serverUrl} did not answer in time`;
    if (err instanceof TypeError && err.message === 'fetch failed') return errors.serverUnreachable(serverUrl).message;
    return err.message;
  }
  return String(err);
}
