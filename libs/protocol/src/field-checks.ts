// Field checks at the codec's edge: decoded fields must be present and valid, domain values must fit their wire
// type. Each check names the field by its path (e.g. `RoundPlan.weights.2.dtype`) and says what was expected.
import { FedtlError, boundText, quoteUntrusted } from '@fedtl/util';
import { FIELD_LIMITS } from './field-limits';

/** Checks decoded fields; every error is FEDTL_ERR_MALFORMED_MESSAGE. */
export class FieldReader {
  constructor(readonly path: string) {}

  at(field: string): FieldReader {
    return new FieldReader(`${this.path}.${field}`);
  }

  /** The error for `field` (or for this path itself when `field` is ''). */
  malformed(field: string, expected: string, got: string): FedtlError {
    const where = field ? `${this.path}.${field}` : this.path;
    return new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `${where}: expected ${expected}, got ${got}`);
  }

  text(field: string, value: string | null | undefined): string {
    if (!value) throw this.malformed(field, 'a non-empty string', 'none');
    return value;
  }

  /**
   * A required identifier of at most `maxChars` characters (UTF-16 code units).
   * @throws FedtlError FEDTL_ERR_MALFORMED_MESSAGE naming the field, its length and the limit.
   */
  identifier(field: string, value: string | null | undefined, maxChars: number): string {
    const text = this.text(field, value);
    if (text.length > maxChars) throw this.malformed(field, `at most ${maxChars} characters`, `${text.length} characters (${quoteUntrusted(text, 40)})`);
    return text;
  }

  /** An optional string of at most `maxChars` characters; absent is ''. Same errors as identifier. */
  optionalText(field: string, value: string | null | undefined, maxChars: number): string {
    const text = value ?? '';
    if (text.length > maxChars) throw this.malformed(field, `at most ${maxChars} characters`, `${text.length} characters`);
    return text;
  }

  /** Exactly `digits` lowercase hex digits (a SHA-256 digest is 64). */
  hexDigest(field: string, value: string | null | undefined, digits: number): string {
    const text = this.text(field, value);
    if (text.length !== digits || !/^[0-9a-f]+$/.test(text)) throw this.malformed(field, `${digits} lowercase hex digits`, quoteUntrusted(text, 40));
    return text;
  }

  /** Informational text (an error message): cut to `maxChars` with a length note and control characters escaped, never refused. */
  informational(value: string | null | undefined, maxChars: number): string {
    return boundText(value ?? '', maxChars);
  }

  /** A list of at most `maxCount` identifiers, each checked as by identifier (named `field[index]`). */
  identifiers(field: string, values: readonly string[] | null | undefined, maxCount: number, maxChars: number): string[] {
    const list = this.count(field, values ?? [], maxCount);
    return list.map((value, index) => this.identifier(`${field}[${index}]`, value, maxChars));
  }

  /** `values` when it holds at most `maxCount` entries. */
  count<T>(field: string, values: readonly T[], maxCount: number): T[] {
    if (values.length > maxCount) throw this.malformed(field, `at most ${maxCount} entries`, `${values.length}`);
    return [...values];
  }

  /** A map of metric names to numbers: at most FIELD_LIMITS.metricsPerMessage names of bounded length. */
  metrics(field: string, wire: Record<string, number> | null | undefined): Record<string, number> {
    const entries = this.count(field, Object.entries(wire ?? {}), FIELD_LIMITS.metricsPerMessage);
    entries.forEach(([name], index) => this.identifier(`${field}[${index}]`, name, FIELD_LIMITS.metricNameChars));
    return Object.fromEntries(entries);
  }

  /** A tensor shape: rank and every dimension within FIELD_LIMITS, before anything is sized from it. */
  shape(field: string, dims: readonly number[] | null | undefined): number[] {
    const shape = [...(dims ?? [])];
    if (shape.length > FIELD_LIMITS.tensorRank) throw this.malformed(field, `a rank of at most ${FIELD_LIMITS.tensorRank}`, `rank ${shape.length}`);
    const axis = shape.findIndex((dim) => dim > FIELD_LIMITS.tensorDim);
    if (axis >= 0) throw this.malformed(`${field}[${axis}]`, `a dimension of at most ${FIELD_LIMITS.tensorDim}`, String(shape[axis]));
    return shape;
  }

  /** A byte string of `minBytes` to `maxBytes` bytes (absent counts as empty), as a Uint8Array. */
  bytes(field: string, value: Uint8Array | null | undefined, minBytes: number, maxBytes: number): Uint8Array {
    const bytes = value ?? new Uint8Array(0);
    if (bytes.length < minBytes || bytes.length > maxBytes) {
      const expected = minBytes === maxBytes ? `${minBytes} bytes` : `${minBytes} to ${maxBytes} bytes`;
      throw this.malformed(field, expected, `${bytes.length} bytes`);
    }
    return bytes;
  }

  /** A finite number > 0. */
  positiveNumber(field: string, value: number | null | undefined): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw this.malformed(field, 'a positive finite number', String(value ?? 0));
    return value;
  }

  /** A finite number ≥ 0 (NaN, ±Infinity and negatives are refused). */
  nonNegativeNumber(field: string, value: number): number {
    if (!Number.isFinite(value) || value < 0) throw this.malformed(field, 'a finite number ≥ 0', String(value));
    return value;
  }

  positive(field: string, value: number | null | undefined): number {
    if (!value || value <= 0) throw this.malformed(field, 'a positive integer', String(value ?? 0));
    return value;
  }

  present<T>(field: string, value: T | null | undefined): T {
    if (value === null || value === undefined) throw this.malformed(field, 'a message', 'none');
    return value;
  }

  enumValue<Name extends string>(field: string, table: Record<Name, number>, value: number | null | undefined): Name {
    const entries = Object.entries(table) as Array<[Name, number]>;
    const match = entries.find(([, wire]) => wire === value);
    if (!match) {
      const expected = entries.map(([name, wire]) => `${name} (${wire})`).join(', ');
      throw this.malformed(field, `one of ${expected}`, String(value ?? 0));
    }
    return match[0];
  }
}

/** Checks domain values before encoding: protobufjs would silently wrap a negative or fractional uint32. */
export class FieldWriter {
  constructor(readonly path: string) {}

  at(field: string): FieldWriter {
    return new FieldWriter(`${this.path}.${field}`);
  }

  uint32(field: string, value: number): number {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`${this.path}.${field}: expected an integer in [0, 4294967295], got ${value}`);
    }
    return value;
  }

  /** An integer in [1, 2^32 - 1]: a count that 0 would make meaningless (a batch size, a number of epochs). */
  positiveUint32(field: string, value: number): number {
    if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
      throw new RangeError(`${this.path}.${field}: expected an integer in [1, 4294967295], got ${value}`);
    }
    return value;
  }

  nonNegativeNumber(field: string, value: number): number {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${this.path}.${field}: expected a finite number ≥ 0, got ${value}`);
    }
    return value;
  }
}
