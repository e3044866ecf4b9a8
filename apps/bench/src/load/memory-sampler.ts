// Samples another process's resident memory from /proc/<pid>/status: VmRSS now, and VmHWM, the kernel's own
// high-water mark, so a peak between two samples is not missed.
import { readFileSync } from 'node:fs';

export interface MemoryReading {
  rssBytes: number;
  peakRssBytes: number;
}

const KIB = 1024;

/** The process's current and peak RSS, or undefined once it is exiting or gone. */
export function readMemory(pid: number): MemoryReading | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * KIB;
  const reading = { rssBytes: field('VmRSS'), peakRssBytes: field('VmHWM') };
  // An exiting (zombie) process still has a status file, without memory fields.
  return Number.isFinite(reading.rssBytes) && Number.isFinite(reading.peakRssBytes) ? reading : undefined;
}

/** Polls until stopped; `peak()` is the highest high-water mark seen while the process lived. */
export class MemorySampler {
  private peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  peak(): number {
    return this.peakBytes;
  }

  /** Takes a last sample (the process may still be alive) and stops polling. */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakBytes;
  }

  private sample(): void {
    const reading = readMemory(this.pid);
    if (reading) this.peakBytes = Math.max(this.peakBytes, reading.peakRssBytes);
  }
}
