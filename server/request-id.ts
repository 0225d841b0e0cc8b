import crypto from 'node:crypto';

/**
 * A client's `x-request-id` is kept only when it is 1 to 128 characters of letters, digits and
 * `. _ : -`, starting with a letter or digit: it goes into response headers, request logs and the
 * prediction log (and its CSV export), so it can carry neither line breaks nor a spreadsheet formula.
 * Anything else is replaced by a fresh UUID, as when no id is sent.
 */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function requestId(given: string | string[] | undefined): string {
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : crypto.randomUUID();
}
