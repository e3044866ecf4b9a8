// The wire benchmark's report: per size the issue's figures (fedtlMBps, jsonMBps, rawMBps and their ratios), the
// codec against one plain copy (encodeMBps, decodeMBps, copyMBps), and the account of what lies between fedtl and
// raw TCP, pass by pass, in milliseconds; then the targets, met or not. report.json holds it, report.md says it.
import { describeMachine, type MachineInfo } from '../machine';
import type { StepMillis, WireMeasurements } from './wire-measure';

/** The issue's targets, checked at every size of at least `fromFloats`. */
export const WIRE_TARGETS = { fromFloats: 1_000_000, ratioJson: 20, ratioRaw: 0.3, encodeToCopy: 1, decodeToCopy: 1 } as const;

export interface WireRow {
  floats: number;
  payloadBytes: number;
  encodedBytes: number;
  /** (a) encodeUpdate + Socket.IO + decodeUpdate, until the acknowledgement is back; MB (1e6 bytes) of float32 payload per second. */
  fedtlMBps: number;
  /** (b) the same values as a JSON array of numbers over the same Socket.IO. */
  jsonMBps: number;
  /** (c) the same payload bytes over raw TCP: the ceiling. */
  rawMBps: number;
  /** a/b: how many times faster fedtl's wire is than JSON. */
  ratioJson: number;
  /** a/c: the share of the raw TCP ceiling that fedtl reaches. */
  ratioRaw: number;
  /** Socket.IO carrying the already encoded Update, acknowledged undecoded: the transport alone. */
  socketIoMBps: number;
  /** One plain copy of the payload (Buffer.allocUnsafe + set: one memcpy), the yardstick of one pass. */
  copyMBps: number;
  /** Uint8Array.prototype.slice() of the payload: JavaScript's plain copy (a zeroed allocation, then the copy). */
  sliceMBps: number;
  encodeMBps: number;
  decodeMBps: number;
  encodeToCopy: number;
  decodeToCopy: number;
  decodeZeroCopy: boolean;
  /** Of the Updates the server received over Socket.IO, how many it decoded in place (ws hands a large message over in a buffer of its own). */
  serverDecodedInPlace: { inPlace: number; of: number };
  /** ws's masking pass on the client (into a new frame) and unmasking on the server (in place), by bufferutil. */
  maskMBps: number;
  unmaskMBps: number;
  /** Medians, in milliseconds, of every step. */
  medianMs: StepMillis;
  /**
   * fedtl − raw TCP, in milliseconds, split into the passes timed alone: the codec's encode and decode, ws's mask
   * and unmask, and what the transport costs beyond them and beyond raw TCP (framing, Socket.IO's packet and
   * attachment handling, extra event-loop turns, allocation of the frame). `residual` is what the sum misses.
   */
  gapToRawMs: { total: number; encode: number; mask: number; unmask: number; transportOther: number; decode: number; residual: number };
}

export interface WireReport {
  command: string;
  machine: MachineInfo;
  /** os.loadavg() (1, 5 and 15 minutes) when the run started and when it ended: the machine is shared. */
  loadAverage: { start: number[]; end: number[] };
  repetitions: number;
  webSocket: WireMeasurements['webSocket'];
  masking: WireMeasurements['masking'];
  rows: WireRow[];
  /** `met` is null when no size reached `fromFloats`: nothing was checked. */
  targets: typeof WIRE_TARGETS & { met: boolean | null; misses: string[] };
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1e3);

/**
 * The report from the measurements: per size the MB/s of every transfer and pass (payload bytes, 4 × P, over the
 * median time), their ratios, the gap to raw TCP split into the passes, and the targets checked at P ≥ 1e6.
 */
export function buildWireReport(measurements: WireMeasurements, context: { command: string; machine: MachineInfo; loadAverage: WireReport['loadAverage'] }): WireReport {
  const rows = measurements.sizes.map((size): WireRow => {
    const ms = size.medianMs;
    const bytes = size.payloadBytes;
    const transportOther = ms.socketIoBytes - ms.mask - ms.unmask - ms.raw;
    const total = ms.fedtl - ms.raw;
    return {
      floats: size.floats,
      payloadBytes: bytes,
      encodedBytes: size.encodedBytes,
      fedtlMBps: mbps(bytes, ms.fedtl),
      jsonMBps: mbps(bytes, ms.json),
      rawMBps: mbps(bytes, ms.raw),
      ratioJson: ms.json / ms.fedtl,
      ratioRaw: ms.raw / ms.fedtl,
      socketIoMBps: mbps(bytes, ms.socketIoBytes),
      copyMBps: mbps(bytes, ms.copy),
      sliceMBps: mbps(bytes, ms.slice),
      encodeMBps: mbps(bytes, ms.encode),
      decodeMBps: mbps(bytes, ms.decode),
      encodeToCopy: ms.copy / ms.encode,
      decodeToCopy: ms.copy / ms.decode,
      decodeZeroCopy: size.decodeZeroCopy,
      serverDecodedInPlace: size.serverDecodedInPlace,
      maskMBps: mbps(bytes, ms.mask),
      unmaskMBps: mbps(bytes, ms.unmask),
      medianMs: ms,
      gapToRawMs: {
        total,
        encode: ms.encode,
        mask: ms.mask,
        unmask: ms.unmask,
        transportOther,
        decode: ms.decode,
        residual: total - ms.encode - ms.mask - ms.unmask - transportOther - ms.decode,
      },
    };
  });
  const misses: string[] = [];
  const checked = rows.filter((r) => r.floats >= WIRE_TARGETS.fromFloats);
  for (const row of checked) {
    if (row.ratioJson < WIRE_TARGETS.ratioJson) misses.push(`P=${row.floats}: a/b ${row.ratioJson.toFixed(1)} < ${WIRE_TARGETS.ratioJson}`);
    if (row.ratioRaw < WIRE_TARGETS.ratioRaw) misses.push(`P=${row.floats}: a/c ${row.ratioRaw.toFixed(2)} < ${WIRE_TARGETS.ratioRaw}`);
    if (row.encodeToCopy < WIRE_TARGETS.encodeToCopy) misses.push(`P=${row.floats}: encode ${row.encodeToCopy.toFixed(2)} of a plain copy`);
    if (row.decodeToCopy < WIRE_TARGETS.decodeToCopy) misses.push(`P=${row.floats}: decode ${row.decodeToCopy.toFixed(2)} of a plain copy`);
  }
  return {
    command: context.command,
    machine: context.machine,
    loadAverage: context.loadAverage,
    repetitions: measurements.repetitions,
    webSocket: measurements.webSocket,
    masking: measurements.masking,
    rows,
    targets: { ...WIRE_TARGETS, met: checked.length === 0 ? null : misses.length === 0, misses },
  };
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '∞');
const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');

/** The report as markdown: three tables (transfers, codec against a copy, the gap pass by pass) and the targets. */
export function renderWireReport(report: WireReport): string {
  const t = report.targets;
  const lines = [
    '# Wire: one Update from a client to the coordinator over loopback',
    '',
    `Machine: ${describeMachine(report.machine)}. Load average (1/5/15 min): ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end.`,
    `Command: \`${report.command}\`. Medians of ${report.repetitions} interleaved repetitions; MB = 10^6 bytes of float32 payload (4 × P).`,
    '',
    'Client and server run in this one process (one event loop, so every pass is paid in turn), over 127.0.0.1.',
    '(a) fedtl: `encodeUpdate`, the client\'s emit-with-ack over socket.io-client, `decodeUpdate` on a Socket.IO server configured as the coordinator\'s, an encoded Ack back.',
    '(b) the values as a JSON array of numbers over the same Socket.IO, a Float32Array again on the server.',
    '(c) the same payload bytes over raw TCP with a length prefix, read whole into one buffer, one byte back.',
    '',
    '| P (floats) | fedtl MB/s (a) | JSON MB/s (b) | raw TCP MB/s (c) | a/b | a/c | Socket.IO alone MB/s |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...report.rows.map((r) => `| ${r.floats} | ${fixed(r.fedtlMBps, 0)} | ${fixed(r.jsonMBps, 1)} | ${fixed(r.rawMBps, 0)} | ${fixed(r.ratioJson, 1)} | ${fixed(r.ratioRaw, 2)} | ${fixed(r.socketIoMBps, 0)} |`),
    '',
    '## The codec against one plain copy of the payload',
    '',
    'copy: `Buffer.allocUnsafe(4P)` and one `set` (a memcpy), the cheapest way to have the payload in a buffer of its own, the yardstick of the',
    'targets; slice: `Uint8Array.prototype.slice()`, the plain copy in JavaScript (a zeroed allocation, then the memcpy). encode: `encodeUpdate`',
    '(one buffer, one copy of the data). decode: `decodeUpdate` of the bytes as received ("in place": the tensor is a view over them). ws mask:',
    "bufferutil masking the encoded Update into a new frame, as ws's sender does on the client; ws unmask: in place, as ws's receiver does.",
    'Server decoded in place: of the Updates the Socket.IO server received in (a), those whose tensor came out as a view over the message',
    '(ws gives a message read in several chunks a buffer of its own; a small one may be a view into a read buffer at any offset, then copied).',
    '',
    '| P (floats) | copy MB/s | slice MB/s | encode MB/s | encode / copy | decode MB/s | decode / copy | decode in place | server decoded in place | ws mask MB/s | ws unmask MB/s |',
    '|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|---:|---:|',
    ...report.rows.map(
      (r) =>
        `| ${r.floats} | ${fixed(r.copyMBps, 0)} | ${fixed(r.sliceMBps, 0)} | ${fixed(r.encodeMBps, 0)} | ${fixed(r.encodeToCopy, 2)} | ${fixed(r.decodeMBps, 0)} | ${fixed(r.decodeToCopy, 1)} | ${r.decodeZeroCopy ? 'yes' : 'no'} | ${r.serverDecodedInPlace.inPlace} of ${r.serverDecodedInPlace.of} | ${fixed(r.maskMBps, 0)} | ${fixed(r.unmaskMBps, 0)} |`,
    ),
    '',
    '## What lies between fedtl and raw TCP, pass by pass (median ms)',
    '',
    '| P (floats) | fedtl | raw TCP | gap | encode | ws mask (client) | ws unmask (server) | rest of Socket.IO\'s transport | decode | residual |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.rows.map((r) => {
      const g = r.gapToRawMs;
      return `| ${r.floats} | ${fixed(r.medianMs.fedtl, 1)} | ${fixed(r.medianMs.raw, 1)} | ${fixed(g.total, 1)} | ${fixed(g.encode, 1)} | ${fixed(g.mask, 1)} | ${fixed(g.unmask, 1)} | ${fixed(g.transportOther, 1)} | ${fixed(g.decode, 2)} | ${fixed(g.residual, 1)} |`;
    }),
    '',
    '"Rest of Socket.IO\'s transport" is Socket.IO carrying the encoded bytes, minus ws\'s mask and unmask timed alone, minus raw TCP:',
    'the frame allocation and headers, socket.io-parser\'s placeholder packet and binary attachment, engine.io\'s packet, ws\'s frame',
    'parsing and the extra event-loop turns and writes. "Residual" is fedtl minus raw TCP minus the parts; it is noise around 0',
    'when the parts account for the gap.',
    '',
    `WebSocket: per-message deflate ${report.webSocket.serverPerMessageDeflate ? 'ON' : 'off'} on the server, extensions negotiated by the client: ${report.webSocket.clientExtensions ? `"${report.webSocket.clientExtensions}"` : 'none'}. ` +
      `Masking by the native bufferutil: client ws ${report.masking.client.native ? 'yes' : 'NO'}, server ws ${report.masking.server.native ? 'yes' : 'NO'}.`,
    '',
    `Targets at P ≥ ${t.fromFloats}: a/b ≥ ${t.ratioJson}, a/c ≥ ${t.ratioRaw}, encode and decode each at least as fast as one plain copy: ` +
      (t.met === null ? `not checked: no size of at least ${t.fromFloats} floats was measured.` : t.met ? 'all met.' : `missed: ${t.misses.join('; ')}.`),
    '',
  ];
  return lines.join('\n');
}
