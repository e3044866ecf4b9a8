// Client sampling shared by the strategies: a seeded draw that does not depend on the order in which the
// coordinator lists its connected clients.
import { shuffled } from '@fedtl/util';

/**
 * Draws `max(floor(fraction · n), minClients)` distinct clients out of the n available (as Flower does),
 * returned sorted. Null when fewer than `max(minClients, minAvailable)` are available.
 */
export function sampleClients(
  available: readonly string[],
  fraction: number,
  minClients: number,
  minAvailable: number,
  random: () => number,
): string[] | null {
  const candidates = [...new Set(available)].sort();
  if (candidates.length < Math.max(minClients, minAvailable)) return null;
  // The epsilon keeps 0.29 · 100 from flooring to 28.
  const fromFraction = Math.floor(fraction * candidates.length + 1e-9);
  const wanted = Math.min(candidates.length, Math.max(fromFraction, minClients));
  return shuffled(candidates, random).slice(0, wanted).sort();
}
