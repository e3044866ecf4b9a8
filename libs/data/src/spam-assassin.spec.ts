import { configureLogging, FedtlError } from '@fedtl/util';
import { labelsOf } from './label-set';
import { loadSpamAssassin, parseSpamAssassinEmail, spamAssassinEmails, type RawEmail } from './spam-assassin';

const rawEmail = (source: string, group: RawEmail['group'] = 'spam-1'): RawEmail => ({ id: `${group}/test`, group, source });

describe('parseSpamAssassinEmail', () => {
  it('keeps the subject and the plain-text part of a multipart mail, without MIME structure', async () => {
    const source = [
      'From: a@example.com',
      'Subject: Cheap   meds\tnow',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="XYZ"',
      '',
      '--XYZ',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Buy   now.',
      '',
      'Limited offer!',
      '--XYZ',
      'Content-Type: text/html',
      '',
      '<html><body><b>Buy now</b></body></html>',
      '--XYZ--',
      '',
    ].join('\r\n');
    const example = await parseSpamAssassinEmail(rawEmail(source));
    expect(example).toEqual({ id: 'spam-1/test', group: 'spam-1', label: 'spam', text: 'Subject: Cheap meds now\n\nBuy now. Limited offer!' });
  });

  it('converts an HTML-only mail to text', async () => {
    const source = 'Subject: Hello\nContent-Type: text/html\n\n<html><body><p>Dear <b>friend</b>,</p><p>You won!</p></body></html>\n';
    const example = await parseSpamAssassinEmail(rawEmail(source));
    expect(example.text).toMatch(/^Subject: Hello\n\nDear friend, You won!$/i);
  });

  it('cuts the body, never the subject, at maxBodyChars', async () => {
    const source = `Subject: ${'long '.repeat(10)}\n\n${'x'.repeat(100)}\n`;
    const example = await parseSpamAssassinEmail(rawEmail(source, 'easy-ham-1'), { maxBodyChars: 10 });
    expect(example.label).toBe('ham');
    expect(example.text).toBe(`Subject: ${'long '.repeat(10).trim()}\n\n${'x'.repeat(10)}`);
    await expect(parseSpamAssassinEmail(rawEmail(source), { maxBodyChars: -1 })).rejects.toThrow(RangeError);
  });

  it('rejects a mail without subject and body as bad data', async () => {
    await expect(parseSpamAssassinEmail(rawEmail('X-Empty: yes\n\n   \n'))).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_DATA',
      message: 'spam-assassin mail spam-1/test: no subject and no text body',
    });
  });
});

describe('loadSpamAssassin', () => {
  it('parses the chosen corpus folders into sane, labelled text, logging how many it skipped', async () => {
    const logLines: string[] = [];
    configureLogging({ format: 'json', sink: { write: (line) => logLines.push(line) } });
    const examples = await loadSpamAssassin({ groups: ['hard-ham-1', 'spam-1'] });
    // hard-ham-1 holds 250 mails and spam-1 500, of which spam-1/00498 has neither subject nor body.
    expect(examples).toHaveLength(749);
    expect(logLines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'warn', module: 'data/spam-assassin', count: 1, ids: ['spam-1/00498'] }),
    ]);
    expect(labelsOf(examples)).toEqual(['ham', 'spam']);
    expect(new Set(examples.map((example) => example.group))).toEqual(new Set(['hard-ham-1', 'spam-1']));
    expect(new Set(examples.map((example) => example.id)).size).toBe(examples.length);
    for (const example of examples) {
      expect(example.label).toBe(example.group === 'spam-1' ? 'spam' : 'ham');
      expect(example.text).toMatch(/^Subject: .*\n\n/);
      expect(example.text.split('\n\n', 2)[1].length).toBeLessThanOrEqual(2000);
    }

    const sources = new Map((await spamAssassinEmails()).map((email) => [email.id, email.source]));
    let multipart = 0;
    for (const example of examples) {
      const headers = (sources.get(example.id) ?? '').split(/\r?\n\r?\n/, 1)[0];
      const boundary = /boundary="?([^";\s]+)/i.exec(headers)?.[1];
      if (!boundary) continue;
      multipart++;
      expect(example.text).not.toContain(`--${boundary}`);
    }
    expect(multipart).toBeGreaterThan(50);
  });

  it('rejects a bad maxBodyChars before parsing anything', async () => {
    await expect(loadSpamAssassin({ maxBodyChars: 1.5 })).rejects.toThrow(RangeError);
    await expect(loadSpamAssassin({ maxBodyChars: 1.5 })).rejects.not.toBeInstanceOf(FedtlError);
  });
});
