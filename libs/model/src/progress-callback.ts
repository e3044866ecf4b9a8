// How long library work reports its progress. Libraries only call the callback and never draw or log it;
// an app decides whether to show it (a bar on a terminal, nothing in a log).

/**
 * `done` of `total` units, called as work advances: texts embedded (cached ones included), or training steps
 * taken over all local epochs (total = epochs × batches per epoch).
 */
export type ProgressCallback = (done: number, total: number) => void;
