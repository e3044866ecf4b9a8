// docs/PROTOCOL.md is how clients in other languages are written: it must list every error code the catalogue
// has, with the catalogue's own meaning, and every field limit the codec enforces, with its value.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIELD_LIMITS } from '@fedtl/protocol';
import { ERROR_CODES } from '@fedtl/util';

const protocolDoc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');

describe('docs/PROTOCOL.md', () => {
  it.each(Object.entries(ERROR_CODES))('lists %s with its meaning from the catalogue', (code, meaning) => {
    expect(protocolDoc).toContain(`| \`${code}\` | ${meaning} |`);
  });

  it('states the codec\'s field limits', () => {
    const figure = (n: number) => (n === 2 ** 31 ? '2^31' : n.toLocaleString('en-US'));
    const rows: Array<[string, string]> = [
      ['client id', `${figure(FIELD_LIMITS.clientIdChars)} characters`],
      ['run id', `${figure(FIELD_LIMITS.runIdChars)} characters`],
      ['backbone id', `${figure(FIELD_LIMITS.backboneIdChars)} characters`],
      ['backbone content hash', `exactly ${FIELD_LIMITS.contentHashHexDigits} lowercase hex digits`],
      ['token', `${figure(FIELD_LIMITS.tokenChars)} characters`],
      ['tensor name', `${figure(FIELD_LIMITS.tensorNameChars)} characters`],
      ['tensors per message', figure(FIELD_LIMITS.tensorsPerMessage)],
      ['tensor rank; each dimension', `${FIELD_LIMITS.tensorRank}; ${figure(FIELD_LIMITS.tensorDim)}`],
      ['label; labels per message (Join, Welcome, per-label map)', `${figure(FIELD_LIMITS.labelChars)} characters; ${figure(FIELD_LIMITS.labelsPerMessage)}`],
      ['metric name; metrics per message', `${figure(FIELD_LIMITS.metricNameChars)} characters; ${figure(FIELD_LIMITS.metricsPerMessage)}`],
      ['error code', `${figure(FIELD_LIMITS.errorCodeChars)} characters`],
    ];
    for (const [field, limit] of rows) expect(protocolDoc).toMatch(new RegExp(`\\| ${escape(field)} \\| ${escape(limit)}( \\(|\\s\\|)`));
    expect(protocolDoc).toContain(`cut instead (to ${figure(FIELD_LIMITS.errorMessageChars)} characters`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
