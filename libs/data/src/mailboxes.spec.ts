import { MAILBOX_MIXES, spamAssassinMailboxes, validationMailbox, type Mailbox } from './mailboxes';

const all = (mailbox: Mailbox) => [...mailbox.train, ...mailbox.test];
const ids = (mailbox: Mailbox) => all(mailbox).map((example) => example.id);
const share = (mailbox: Mailbox, predicate: (example: Mailbox['train'][number]) => boolean) =>
  all(mailbox).filter(predicate).length / all(mailbox).length;

describe('spamAssassinMailboxes', () => {
  // 100 mails each rather than the default 300 keeps the test quick: only the mails drawn are parsed.
  let mailboxes: Mailbox[];
  beforeAll(async () => {
    mailboxes = await spamAssassinMailboxes({ perOrganisation: 100 });
  });

  it('cuts three mailboxes, a quarter of each for test', () => {
    expect(mailboxes.map((mailbox) => [mailbox.name, mailbox.train.length, mailbox.test.length])).toEqual([
      ['org-1', 75, 25],
      ['org-2', 74, 26], // 50 ham and 50 spam: each label rounds its 12.5 test mails up
      ['org-3', 75, 25],
    ]);
  });

  it('mixes them as documented: spam shares 20%, 50%, 60%, hard ham only at org-2', () => {
    expect(mailboxes.map((mailbox) => mailbox.mix)).toEqual(MAILBOX_MIXES);
    expect(mailboxes.map((mailbox) => share(mailbox, (example) => example.label === 'spam'))).toEqual([0.2, 0.5, 0.6]);
    expect(mailboxes.map((mailbox) => share(mailbox, (example) => example.group === 'hard-ham-1'))).toEqual([0, 0.3, 0]);
    for (const mailbox of mailboxes) {
      const testSpamShare = mailbox.test.filter((example) => example.label === 'spam').length / mailbox.test.length;
      expect(Math.abs(testSpamShare - mailbox.mix.shares.spam)).toBeLessThan(0.03);
    }
  });

  it('never puts one mail in two mailboxes or on both sides of a split', () => {
    const every = mailboxes.flatMap(ids);
    expect(new Set(every).size).toBe(every.length);
    expect(every).toHaveLength(300);
  });

  it('holds out a validation slice of the training mail only, stratified, seeded per organisation', () => {
    const [personal, commercial] = mailboxes;
    const validated = validationMailbox(personal, 1 / 3, 7);
    expect(validated.name).toBe('org-1');
    expect(validated.mix).toBe(personal.mix);
    expect([validated.train.length, validated.test.length]).toEqual([50, 25]);
    // Exactly the training mail, split in two; none of the test mail.
    expect([...validated.train, ...validated.test].map((e) => e.id).sort()).toEqual(personal.train.map((e) => e.id).sort());
    const testIds = new Set(personal.test.map((e) => e.id));
    expect(validated.test.some((e) => testIds.has(e.id))).toBe(false);
    // org-1 is 20 % spam: so is its validation slice.
    expect(validated.test.filter((e) => e.label === 'spam')).toHaveLength(5);
    expect(validationMailbox(personal, 1 / 3, 7).test.map((e) => e.id)).toEqual(validated.test.map((e) => e.id));
    expect(validationMailbox(personal, 1 / 3, 8).test.map((e) => e.id)).not.toEqual(validated.test.map((e) => e.id));
    expect(validationMailbox(commercial, 1 / 3, 7).test.filter((e) => e.label === 'spam')).toHaveLength(12);
  });

  it('is deterministic for a seed, and org-1 does not depend on how many organisations follow', async () => {
    const small = { perOrganisation: 20, seed: 21 };
    const [again, alone, otherSeed] = await Promise.all([
      spamAssassinMailboxes({ ...small, organisations: 3 }),
      spamAssassinMailboxes({ ...small, organisations: 1 }),
      spamAssassinMailboxes({ ...small, organisations: 1, seed: 22 }),
    ]);
    const first = await spamAssassinMailboxes({ ...small, organisations: 3 });
    expect(again.map(ids)).toEqual(first.map(ids));
    expect(again[1].test.map((example) => example.text)).toEqual(first[1].test.map((example) => example.text));
    expect(ids(alone[0])).toEqual(ids(first[0]));
    expect(ids(otherSeed[0])).not.toEqual(ids(first[0]));
  });

  it('refuses requests the corpus cannot fill, before parsing', async () => {
    await expect(spamAssassinMailboxes({ organisations: 9, perOrganisation: 300 })).rejects.toThrow(
      'organisations=9 with perOrganisation=300 need more hard-ham mails than the corpus holds',
    );
    await expect(spamAssassinMailboxes({ organisations: 0 })).rejects.toThrow('organisations must be a positive integer, got 0');
    await expect(spamAssassinMailboxes({ testFraction: 0 })).rejects.toThrow(RangeError);
  });
});
