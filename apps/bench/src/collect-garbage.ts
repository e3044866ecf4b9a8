// A full garbage collection on demand, so that a timed step does not pay for the garbage of the step before it
// (a JSON transfer of 1e7 values leaves hundreds of MB behind). Node exposes `gc` only with --expose-gc; the flag
// is set here at run time and the function taken from a fresh context, where V8 installs it once the flag is on.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs a full, synchronous garbage collection of this isolate. */
export function collectGarbage(): void {
  gc();
}
