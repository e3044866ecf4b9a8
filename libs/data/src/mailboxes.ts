// Per-organisation mailboxes cut from the SpamAssassin corpus for the federated spam-filter demo. The
// organisations are deliberately non-IID, as real ones are; their mixes cycle (org-4 is mixed like org-1):
//
//   mix               easy ham   hard ham   spam    e.g. perOrganisation = 300
//   org-1 personal       80%         –       20%    240 easy ham,               60 spam
//   org-2 commercial     20%        30%      50%     60 easy ham, 90 hard ham, 150 spam
//   org-3 spam-heavy     40%         –       60%    120 easy ham,              180 spam
//
// Hard ham is legitimate mail that looks like spam (newsletters, offers). Mailboxes never share a mail; the
// draws for org-N do not depend on how many organisations come after it. Only the mails drawn are parsed.

import { createLogger, deriveSeed, FedtlError, seededRandom, shuffled } from '@fedtl/util';
import {
  parseSpamAssassinEmail,
  spamAssassinEmails,
  type EmailTextOptions,
  type RawEmail,
  type SpamAssassinGroup,
  type SpamExample,
} from './spam-assassin';
import { stratifiedSplit } from './split';

export type MailKind = 'easy-ham' | 'hard-ham' | 'spam';

export interface MailboxMix {
  name: string;
  /** Shares of the mailbox, summing to 1. */
  shares: Record<MailKind, number>;
}

export const MAILBOX_MIXES: readonly MailboxMix[] = [
  { name: 'personal', shares: { 'easy-ham': 0.8, 'hard-ham': 0, spam: 0.2 } },
  { name: 'commercial', shares: { 'easy-ham': 0.2, 'hard-ham': 0.3, spam: 0.5 } },
  { name: 'spam-heavy', shares: { 'easy-ham': 0.4, 'hard-ham': 0, spam: 0.6 } },
];

const KIND_OF_GROUP: Record<SpamAssassinGroup, MailKind> = {
  'easy-ham-1': 'easy-ham',
  'easy-ham-2': 'easy-ham',
  'hard-ham-1': 'hard-ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

const MAIL_KINDS: readonly MailKind[] = ['easy-ham', 'hard-ham', 'spam'];

const log = createLogger('data/mailboxes');

export interface MailboxOptions {
  /** Default 3. */
  organisations?: number;
  /** Mails per organisation, train and test together. Default 300. */
  perOrganisation?: number;
  /** Default 0.25. */
  testFraction?: number;
  /** Default 7. */
  seed?: number;
  /** Default 2000, see parseSpamAssassinEmail. */
  maxBodyChars?: number;
}

export interface Mailbox {
  /** 'org-1', 'org-2', … */
  name: string;
  mix: MailboxMix;
  train: SpamExample[];
  test: SpamExample[];
}

export async function spamAssassinMailboxes(options: MailboxOptions = {}): Promise<Mailbox[]> {
  const { organisations = 3, perOrganisation = 300, testFraction = 0.25, seed = 7, maxBodyChars } = options;
  checkPositiveInteger('organisations', organisations);
  checkPositiveInteger('perOrganisation', perOrganisation);
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be strictly between 0 and 1, got ${testFraction}`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const mixes = Array.from({ length: organisations }, (_, index) => MAILBOX_MIXES[index % MAILBOX_MIXES.length]);
  const counts = mixes.map((mix) => mixCounts(mix, perOrganisation));
  const pools = await shuffledPools(seed);
  for (const kind of MAIL_KINDS) {
    const needed = counts.reduce((sum, count) => sum + count[kind], 0);
    if (needed > pools[kind].size) throw exhaustedError(kind, organisations, perOrganisation);
  }
  const mailboxes: Mailbox[] = [];
  for (let index = 0; index < organisations; index++) {
    const name = `org-${index + 1}`;
    const mails: SpamExample[] = [];
    for (const kind of MAIL_KINDS) {
      for (let drawn = 0; drawn < counts[index][kind]; drawn++) {
        const mail = await pools[kind].next({ maxBodyChars });
        if (!mail) throw exhaustedError(kind, organisations, perOrganisation);
        mails.push(mail);
      }
    }
    const { train, test } = stratifiedSplit(mails, { testFraction, seed: deriveSeed(seed, 'mailbox', name) });
    mailboxes.push({ name, mix: mixes[index], train, test });
  }
  const skipped = MAIL_KINDS.flatMap((kind) => pools[kind].skipped);
  if (skipped.length > 0) log.warn('passed over mails that could not be parsed', { count: skipped.length, ids: skipped });
  return mailboxes;
}

/**
 * The mailbox with a stratified share of its training mail held out and put where its test mail was: for
 * choosing settings (budget, rounds, learning rate…) without ever looking at the test mail. The held-out mail
 * is drawn per organisation (seeded by `seed` and the mailbox's name); the test mail is dropped.
 */
export function validationMailbox(mailbox: Mailbox, fraction: number, seed: number): Mailbox {
  const { train, test } = stratifiedSplit(mailbox.train, { testFraction: fraction, seed: deriveSeed(seed, 'validation', mailbox.name) });
  return { ...mailbox, train, test };
}

/**
 * Mails of one kind in a seeded order, handed out once each; mails that fail to parse are passed over.
 * `undefined` once the pool is used up.
 */
class MailPool {
  readonly skipped: string[] = [];
  private position = 0;

  constructor(private readonly emails: readonly RawEmail[]) {}

  get size(): number {
    return this.emails.length;
  }

  async next(options: EmailTextOptions): Promise<SpamExample | undefined> {
    while (this.position < this.emails.length) {
      const email = this.emails[this.position++];
      try {
        return await parseSpamAssassinEmail(email, options);
      } catch (err) {
        if (!(err instanceof FedtlError)) throw err;
        this.skipped.push(email.id);
      }
    }
    return undefined;
  }
}

async function shuffledPools(seed: number): Promise<Record<MailKind, MailPool>> {
  const byKind: Record<MailKind, RawEmail[]> = { 'easy-ham': [], 'hard-ham': [], spam: [] };
  for (const email of await spamAssassinEmails()) byKind[KIND_OF_GROUP[email.group]].push(email);
  const pool = (kind: MailKind) => new MailPool(shuffled(byKind[kind], seededRandom(deriveSeed(seed, 'mailbox', kind))));
  return { 'easy-ham': pool('easy-ham'), 'hard-ham': pool('hard-ham'), spam: pool('spam') };
}

/** Mails of each kind for one mailbox: shares times size, rounded by largest remainder so they sum to size. */
function mixCounts(mix: MailboxMix, size: number): Record<MailKind, number> {
  const exact = MAIL_KINDS.map((kind) => mix.shares[kind] * size);
  const counts = exact.map(Math.floor);
  const byRemainder = MAIL_KINDS.map((_, index) => index).sort(
    (a, b) => exact[b] - counts[b] - (exact[a] - counts[a]) || a - b,
  );
  for (let left = size - counts.reduce((sum, count) => sum + count, 0), i = 0; left > 0; left--, i++) {
    counts[byRemainder[i]]++;
  }
  return { 'easy-ham': counts[0], 'hard-ham': counts[1], spam: counts[2] };
}

function exhaustedError(kind: MailKind, organisations: number, perOrganisation: number): RangeError {
  return new RangeError(
    `organisations=${organisations} with perOrganisation=${perOrganisation} need more ${kind} mails than the corpus holds`,
  );
}

function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}
