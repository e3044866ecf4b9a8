// Counts payload bytes in each direction, so every round can report what it cost on the wire; the `update` events'
// share of the bytes up on its own, so a compression's effect on the updates shows apart from the evaluation
// reports and acknowledgements that travel uncompressed beside them.
export interface TrafficSnapshot {
  bytesUp: number;
  bytesDown: number;
  /** Of bytesUp: the payloads of `update` events (accepted or refused). */
  updateBytesUp: number;
}

export class TrafficCounter {
  private up = 0;
  private down = 0;
  private updatesUp = 0;

  /** Bytes received from clients; `isUpdate` for the payload of an `update` event. */
  countUp(bytes: number, isUpdate = false): void {
    this.up += bytes;
    if (isUpdate) this.updatesUp += bytes;
  }

  /** Bytes sent to clients. */
  countDown(bytes: number): void {
    this.down += bytes;
  }

  snapshot(): TrafficSnapshot {
    return { bytesUp: this.up, bytesDown: this.down, updateBytesUp: this.updatesUp };
  }

  since(snapshot: TrafficSnapshot): TrafficSnapshot {
    return { bytesUp: this.up - snapshot.bytesUp, bytesDown: this.down - snapshot.bytesDown, updateBytesUp: this.updatesUp - snapshot.updateBytesUp };
  }
}
