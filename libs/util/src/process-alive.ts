// Whether a process still runs, for locks whose holder may have died without releasing them.

/**
 * True when a process with this pid exists on this machine. Signal 0 checks existence only; EPERM means the
 * process exists but belongs to another user.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
