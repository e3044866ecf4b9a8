// Counts payload bytes in each direction, so every round can report what it cost on the wire.
export class TrafficCounter {
  private up = 0;
  private down = 0;

  /** Bytes received from clients. */
  countUp(bytes: number): void {
    this.up += bytes;
  }

  /** Bytes sent to clients. */
  countDown(bytes: number): void {
    this.down += bytes;
  }

  snapshot(): { bytesUp: number; bytesDown: number } {
    return { bytesUp: this.up, bytesDown: this.down };
  }

  since(snapshot: { bytesUp: number; bytesDown: number }): { bytesUp: number; bytesDown: number } {
    return { bytesUp: this.up - snapshot.bytesUp, bytesDown: this.down - snapshot.bytesDown };
  }
}
