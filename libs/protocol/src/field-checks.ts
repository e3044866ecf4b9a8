// Field checks at the codec's edge: decoded fields must be present and valid, domain values must fit their wire
// type. Each check names the field by its path (e.g. `RoundPlan.weights.2.dtype`) and says what was expected.
import { FedtlError } from '@fedtl/util';

/** Checks decoded fields; every error is FEDTL_ERR_MALFORMED_MESSAGE. */
export class FieldReader {
  constructor(readonly path: string) {}

  at(field: string): FieldReader {
    return new FieldReader(`${this.path}.${field}`);
  }

  malformed(field: string, expected: string, got: string): FedtlError {
    return new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `${this.path}.${field}: expected ${expected}, got ${got}`);
  }

  text(field: string, value: string | null | undefined): string {
    if (!value) throw this.malformed(field, 'a non-empty string', 'none');
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
}
