/**
 * Named points where a test can freeze a process to kill it there (crash-consistency tests).
 * `MLOPS_FAILPOINT=<name>` makes the process announce `failpoint <name>` on stderr and block
 * synchronously, so the test can SIGKILL it exactly at that point. Unset in normal use.
 */
export function failpoint(name: string): void {
  if (process.env.MLOPS_FAILPOINT !== name) return;
  process.stderr.write(`failpoint ${name}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
