import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MAX_TOKENS, SentencePieceTokenizer, UNK_PENALTY, type ScoredVocabulary } from './sentencepiece';
import { useLiteModelDir } from './use-lite';

const useLiteVocab = JSON.parse(readFileSync(path.join(useLiteModelDir(), 'vocab.json'), 'utf8')) as ScoredVocabulary;
const tokenizer = new SentencePieceTokenizer(useLiteVocab, { reservedCount: 6 });
const pieces = (text: string) => tokenizer.encode(text).map((id) => tokenizer.piece(id));

describe('SentencePieceTokenizer on the USE lite vocabulary', () => {
  // Expected segmentations agree with tfjs-models' USE tokenizer (same lattice, same scores) for text with
  // single spaces and known characters; the unknown-character cases follow SentencePiece's unk rules.
  it.each([
    ['Hello world.', ['▁H', 'ello', '▁world', '.'], [341, 4125, 311, 6]],
    ['The cat sits on the mat.', ['▁The', '▁cat', '▁sit', 's', '▁on', '▁the', '▁ma', 't', '.'], [34, 1163, 1656, 7, 25, 9, 688, 17, 6]],
    ["Don't stop-believing!", ['▁Don', "'", 't', '▁stop', '-', 'bel', 'ie', 'ving', '!'], [662, 13, 17, 630, 24, 2681, 349, 892, 78]],
  ])('segments %j by the highest summed score', (text, expectedPieces, expectedIds) => {
    expect(pieces(text)).toEqual(expectedPieces);
    expect(tokenizer.encode(text)).toEqual(expectedIds);
  });

  it('normalises with NFKC: composed and decomposed accents, full-width letters and ligatures', () => {
    expect(tokenizer.encode('café')).toEqual(tokenizer.encode('cafe\u0301'));
    expect(pieces('café')).toEqual(['▁ca', 'f', 'é']);
    expect(pieces('Ｆｕｌｌｗｉｄｔｈ ﬁ')).toEqual(['▁Full', 'wi', 'd', 'th', '▁fi']);
  });

  it('maps characters outside the vocabulary to unk, one unk per run of them', () => {
    expect(pieces('naïve résumé')).toEqual(['▁na', '�', 've', '▁r', 'é', 's', 'um', 'é']);
    expect(tokenizer.encode('日本語')).toEqual([30, 0]);
    expect(pieces('I ❤ 😀😀 emoji')).toEqual(['▁I', '▁', '�', '▁', '�', '▁e', 'mo', 'ji']);
    expect(tokenizer.unkScore).toBeCloseTo(-14.528678894 - UNK_PENALTY, 6);
  });

  it('collapses whitespace runs and drops leading and trailing whitespace', () => {
    expect(pieces('  a \t\n b\u00a0\u3000c  ')).toEqual(['▁a', '▁b', '▁c']);
    expect(SentencePieceTokenizer.normalize(' x  y ')).toBe('▁x▁y');
  });

  it('gives no tokens for empty or whitespace-only text', () => {
    expect(tokenizer.encode('')).toEqual([]);
    expect(tokenizer.encode(' \n\t ')).toEqual([]);
  });

  it('scores the pieces whose score the vocabulary lost (null) as 0, like the reference', () => {
    expect(useLiteVocab[255]).toEqual(['://', null]);
    expect(pieces('http://fedtl.dev')).toContain('://');
  });

  it('truncates long text to the cap, keeping exactly the first tokens of the whole text', () => {
    const sentence = 'The quick brown fox jumps over the lazy dog near the riverbank. ';
    const uncapped = new SentencePieceTokenizer(useLiteVocab, { reservedCount: 6, maxTokens: 100_000 });
    const whole = uncapped.encode(sentence.repeat(400));
    expect(whole.length).toBeGreaterThan(4 * DEFAULT_MAX_TOKENS);
    expect(tokenizer.encode(sentence.repeat(400))).toEqual(whole.slice(0, DEFAULT_MAX_TOKENS));
    // A megabyte of text, mostly whitespace after the first words: the cut grows until it has enough text.
    const sparse = sentence.repeat(10) + ' '.repeat(1_000_000) + sentence.repeat(390);
    expect(tokenizer.encode(sparse)).toEqual(whole.slice(0, DEFAULT_MAX_TOKENS));
    const small = new SentencePieceTokenizer(useLiteVocab, { reservedCount: 6, maxTokens: 3 });
    expect(small.encode('The cat sits on the mat.')).toEqual([34, 1163, 1656]);
  });

  it('caps a single giant word too', () => {
    expect(tokenizer.encode('x'.repeat(100_000))).toHaveLength(DEFAULT_MAX_TOKENS);
  });
});

describe('SentencePieceTokenizer lattice', () => {
  const vocab: ScoredVocabulary = [['<unk>', 0], ['▁ab', -5], ['▁a', -1], ['b', -1], ['▁', -3], ['c', -2]];
  const small = new SentencePieceTokenizer(vocab);

  it('maximises the summed score rather than matching the longest piece', () => {
    expect(small.encode('ab')).toEqual([2, 3]);
    expect(new SentencePieceTokenizer([['<unk>', 0], ['▁ab', -1.5], ['▁a', -1], ['b', -1]]).encode('ab')).toEqual([1]);
  });

  it('never matches reserved entries and costs unknown characters min score minus the penalty', () => {
    expect(small.unkScore).toBe(-5 - UNK_PENALTY);
    expect(small.encode('<unk>')).toEqual([4, 0]);
    expect(small.encode('xyz c')).toEqual([4, 0, 4, 5]);
  });

  it('validates its options and vocabulary', () => {
    expect(() => new SentencePieceTokenizer(vocab, { maxTokens: 0 })).toThrow('maxTokens must be an integer >= 1; got 0');
    expect(() => new SentencePieceTokenizer(vocab, { unkId: 2 })).toThrow('unkId must be an integer in [0, reservedCount=1); got 2');
    expect(() => new SentencePieceTokenizer([['<unk>', 0]])).toThrow('vocabulary must hold more than reservedCount (1) entries; got 1');
    expect(() => new SentencePieceTokenizer([['<unk>', 0], ['a', 'x' as never]])).toThrow('vocabulary entry 1 must be [piece: string, score: finite number | null]');
    expect(() => small.piece(6)).toThrow('token id must be in [0, 6); got 6');
  });
});
