// The live dashboard's Socket.IO namespace (/dashboard): the page connects once and the coordinator pushes the
// run's status ('status', the object /api/status returns for that viewer) on connect and whenever it changes,
// at most once per PUSH_INTERVAL_MS. The status API's token rules decide who connects and what they see; a
// refusal reaches the page as connect_error with the reason. Nothing a dashboard sends is read: a socket that
// emits anything is disconnected, so this namespace cannot reach or disturb the federation protocol.
import type { Namespace, Server, Socket } from 'socket.io';
import { createLogger } from '@fedtl/util';
import { DASHBOARD_NAMESPACE, isDashboardHandshake } from './dashboard-handshake';
import type { RunStatus, RunStatusSnapshot } from './run-status';
import { deniedReason, viewOf, viewerOf, type StatusAccessOptions, type StatusViewer } from './status-access';

/** At most one push per this many milliseconds: a burst of updates is one redraw, the last state always sent. */
export const PUSH_INTERVAL_MS = 250;

/** What the namespace sends: the run's status, as its viewer may see it. */
export interface DashboardEvents {
  status: (status: RunStatusSnapshot) => void;
}

type Viewer = Exclude<StatusViewer, { view: 'denied' }>;
type DashboardSocket = Socket<Record<string, never>, DashboardEvents, Record<string, never>, { viewer: Viewer }>;

const log = createLogger('dashboard');

export class LiveDashboard {
  private readonly namespace: Namespace<Record<string, never>, DashboardEvents, Record<string, never>, { viewer: Viewer }>;
  private timer?: NodeJS.Timeout;
  private lastPushAt = 0;
  private readonly onChanged = () => this.schedulePush();
  /** Engine connections (socket.conn) that presented a token to this namespace, accepted or refused. */
  private readonly authenticated = new WeakSet<object>();

  /**
   * @param io the coordinator's Socket.IO server (its default namespace is the federation's)
   * @param status the run's status: pushed on its 'changed'
   * @param access the status API's token rules
   * @param onDenied told the address of each refused connection (the handshake rate limit counts it)
   */
  constructor(
    io: Server,
    private readonly status: RunStatus,
    access: StatusAccessOptions,
    onDenied: (address: string) => void,
  ) {
    this.namespace = io.of(DASHBOARD_NAMESPACE) as unknown as typeof this.namespace;
    this.namespace.use((socket, next) => {
      this.authenticated.add(socket.conn);
      const given = (socket.handshake.auth as { token?: unknown }).token;
      const viewer = viewerOf(typeof given === 'string' ? given : '', socket.request.socket, access);
      if (viewer.view === 'denied') {
        onDenied(socket.handshake.address);
        const error = new Error(`${deniedReason(access)} as the auth token (the page's ?token=)`) as Error & { data: unknown };
        error.data = { code: 'FEDTL_ERR_UNAUTHORIZED' };
        next(error);
        // A dashboard-only connection has nothing left to do: closed once the connect_error is on its way (after
        // Socket.IO's own next tick), so a refused peer does not hold one of the dashboards' slots until the
        // connect timeout. A federation connection that tried this namespace keeps its federation session.
        if (isDashboardHandshake(socket.request)) setImmediate(() => socket.conn.close());
        return;
      }
      socket.data.viewer = viewer;
      next();
    });
    this.namespace.on('connection', (socket: DashboardSocket) => {
      socket.onAny((event: unknown) => {
        log.warn('a dashboard sent an event; disconnecting it', { address: socket.handshake.address, event: String(event).slice(0, 64) });
        socket.disconnect(true);
      });
      socket.emit('status', viewOf(this.status.snapshot(), socket.data.viewer));
    });
    status.on('changed', this.onChanged);
  }

  /** Whether the engine connection `connection` has presented a token here (a dashboard that never does is a squatter). */
  triedToAuthenticate(connection: object): boolean {
    return this.authenticated.has(connection);
  }

  /** Stops pushing (the sockets themselves close with the server). */
  close(): void {
    this.status.off('changed', this.onChanged);
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedulePush(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastPushAt + PUSH_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => this.push(), wait);
  }

  private push(): void {
    this.timer = undefined;
    this.lastPushAt = Date.now();
    if (this.namespace.sockets.size === 0) return;
    const snapshot = this.status.snapshot();
    for (const socket of this.namespace.sockets.values()) socket.emit('status', viewOf(snapshot, socket.data.viewer));
  }
}
