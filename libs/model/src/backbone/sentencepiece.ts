// Unigram SentencePiece segmentation: Kudo, "Subword Regularization: Improving Neural Network Translation Models
// with Multiple Subword Candidates", ACL 2018, https://arxiv.org/abs/1804.10959 ; Kudo & Richardson,
// "SentencePiece", EMNLP 2018, https://arxiv.org/abs/1808.06226.
//
// Given a vocabulary of pieces with log-probability scores, the segmentation of a text is the sequence of pieces
// that spells it and has the largest summed score (Viterbi over the lattice of all vocabulary matches). This is
// the tokenizer Universal Sentence Encoder lite was trained with; its reference in JavaScript is the tokenizer of
// tensorflow/tfjs-models' universal-sentence-encoder. Where this one differs from that reference, it follows
// SentencePiece itself:
// - whitespace runs collapse to one boundary and leading/trailing whitespace is dropped (SentencePiece's default
//   `remove_extra_whitespaces`; the reference only maps each ' ' to a boundary);
// - a character no piece covers costs `min score - UNK_PENALTY` (SentencePiece's `kUnkPenalty`), rather than
//   the reference's score 0, which made unknown characters the cheapest path;
// - the output is capped at `maxTokens`.
// As in both, runs of consecutive unknown characters become a single unk token.

/** U+2581 LOWER ONE EIGHTH BLOCK: marks the start of a word inside pieces ("▁the"). */
export const WORD_BOUNDARY = '\u2581';

/** Tokens kept per text by default; longer texts are truncated (sentence encoders gain little beyond this). */
export const DEFAULT_MAX_TOKENS = 256;

/** How much worse than the rarest piece an unknown character scores, as in SentencePiece (`kUnkPenalty`). */
export const UNK_PENALTY = 10;

/**
 * `[piece, score]` pairs; the index of a pair is the piece's id. A null score counts as 0: the USE lite
 * vocab.json holds seven (every piece with a ':' in it, ":", "://", "▁:)"…, lost in its conversion), and the
 * tfjs-models reference, which the model is fed by in the wild, adds them as 0 (`null + x === x`). 0 is the top
 * score, so these pieces are always taken where they match: the segmentation USE lite users get.
 */
export type ScoredVocabulary = ReadonlyArray<readonly [string, number | null]>;

export interface SentencePieceOptions {
  /** Id emitted for characters no piece covers. Default 0. Must be one of the reserved ids. */
  unkId?: number;
  /**
   * The first `reservedCount` entries are special symbols (unk, <s>, </s>, user-defined) that never match text.
   * Default 1 (only unk). USE lite reserves 6.
   */
  reservedCount?: number;
  /** At most this many tokens per text. Default DEFAULT_MAX_TOKENS. */
  maxTokens?: number;
}

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Vocabulary id of the piece that ends here, or -1. */
  id: number;
  score: number;
}

const newNode = (): TrieNode => ({ children: new Map(), id: -1, score: 0 });
const BOUNDARY_CODE = WORD_BOUNDARY.codePointAt(0) as number;

export class SentencePieceTokenizer {
  readonly unkId: number;
  readonly maxTokens: number;
  /** Score of an unknown character in the lattice. */
  readonly unkScore: number;
  private readonly pieces: string[];
  private readonly root = newNode();
  /** Longest piece, in code points: bounds how far one lattice step looks ahead. */
  private readonly maxPieceLength: number;

  constructor(vocabulary: ScoredVocabulary, options: SentencePieceOptions = {}) {
    const { unkId = 0, reservedCount = 1, maxTokens = DEFAULT_MAX_TOKENS } = options;
    if (!Array.isArray(vocabulary) || vocabulary.length <= reservedCount) {
      throw new RangeError(`vocabulary must hold more than reservedCount (${reservedCount}) entries; got ${Array.isArray(vocabulary) ? vocabulary.length : typeof vocabulary}`);
    }
    if (!Number.isInteger(reservedCount) || reservedCount < 1) throw new RangeError(`reservedCount must be an integer >= 1; got ${reservedCount}`);
    if (!Number.isInteger(unkId) || unkId < 0 || unkId >= reservedCount) {
      throw new RangeError(`unkId must be an integer in [0, reservedCount=${reservedCount}); got ${unkId}`);
    }
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError(`maxTokens must be an integer >= 1; got ${maxTokens}`);
    this.unkId = unkId;
    this.maxTokens = maxTokens;
    this.pieces = vocabulary.map((entry, id) => {
      const score = entry?.[1];
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !(score === null || Number.isFinite(score))) {
        throw new RangeError(`vocabulary entry ${id} must be [piece: string, score: finite number | null]`);
      }
      return entry[0];
    });

    let minScore = 0;
    let maxPieceLength = 1;
    for (let id = reservedCount; id < vocabulary.length; id++) {
      const piece = vocabulary[id][0];
      const score = vocabulary[id][1] ?? 0;
      if (piece.length === 0) continue;
      let node = this.root;
      let length = 0;
      for (const char of piece) {
        const code = char.codePointAt(0) as number;
        let next = node.children.get(code);
        if (next === undefined) {
          next = newNode();
          node.children.set(code, next);
        }
        node = next;
        length++;
      }
      // A duplicated piece keeps its first (lowest) id, as SentencePiece would refuse the second.
      if (node.id !== -1) continue;
      node.id = id;
      node.score = score;
      minScore = Math.min(minScore, score);
      maxPieceLength = Math.max(maxPieceLength, length);
    }
    this.unkScore = minScore - UNK_PENALTY;
    this.maxPieceLength = maxPieceLength;
  }

  /**
   * NFKC, whitespace runs to one boundary, leading and trailing whitespace dropped, a boundary before the first
   * word. Empty or whitespace-only text normalises to ''.
   */
  static normalize(text: string): string {
    const words = text.normalize('NFKC').trim().split(/\s+/u);
    return words[0] === '' ? '' : WORD_BOUNDARY + words.join(WORD_BOUNDARY);
  }

  /** Token ids of `text`, at most `maxTokens`; [] for empty or whitespace-only text. */
  encode(text: string): number[] {
    const symbols = this.symbolsWithinCap(text);
    const n = symbols.length;
    if (n === 0) return [];

    // best[i]: highest score of a segmentation of symbols[0, i); the last piece of it is backId[i],
    // starting at backStart[i].
    const best = new Float64Array(n + 1).fill(-Infinity);
    const backStart = new Int32Array(n + 1);
    const backId = new Int32Array(n + 1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      const prefixScore = best[start];
      let node: TrieNode | undefined = this.root;
      let coveredBySinglePiece = false;
      for (let end = start; end < n; end++) {
        node = node.children.get(symbols[end]);
        if (node === undefined) break;
        if (node.id === -1) continue;
        if (end === start) coveredBySinglePiece = true;
        const score = prefixScore + node.score;
        if (score > best[end + 1]) {
          best[end + 1] = score;
          backStart[end + 1] = start;
          backId[end + 1] = node.id;
        }
      }
      // As in SentencePiece, the unknown path exists only where no one-character piece does, so every
      // position stays reachable and a known character is never spelled as unk.
      if (!coveredBySinglePiece) {
        const score = prefixScore + this.unkScore;
        if (score > best[start + 1]) {
          best[start + 1] = score;
          backStart[start + 1] = start;
          backId[start + 1] = this.unkId;
        }
      }
    }

    const reversed: number[] = [];
    for (let end = n; end > 0; end = backStart[end]) reversed.push(backId[end]);
    const ids: number[] = [];
    for (let k = reversed.length - 1; k >= 0 && ids.length < this.maxTokens; k--) {
      const id = reversed[k];
      if (id === this.unkId && ids.length > 0 && ids[ids.length - 1] === this.unkId) continue;
      ids.push(id);
    }
    return ids;
  }

  /** The piece with this id (for logs and tests). */
  piece(id: number): string {
    const piece = this.pieces[id];
    if (piece === undefined) throw new RangeError(`token id must be in [0, ${this.pieces.length}); got ${id}`);
    return piece;
  }

  /**
   * Code points of the normalised text, cut so that a megabyte e-mail costs no more than a capped one.
   * `maxTokens` tokens span at most `maxTokens * maxPieceLength` code points, so the cut comes at the first word
   * boundary past that. Pieces of a unigram vocabulary never hold a boundary after their first character, so a
   * boundary is always a token edge: the words before the cut segment exactly as in the whole text, and the first
   * `maxTokens` tokens are the same. Only a raw prefix is normalised, cut at whitespace (where NFKC and the
   * whitespace rules act alike on a prefix and on the whole), and grown until it reaches the cut. Exceptions,
   * both harmless: a single word longer than twice the limit is cut inside, and a long merged run of unknown
   * characters counts as one token.
   */
  private symbolsWithinCap(text: string): number[] {
    const limit = this.maxTokens * this.maxPieceLength;
    for (let rawLength = 8 * limit; ; rawLength *= 4) {
      const whole = rawLength >= text.length;
      const prefix = whole ? text : text.slice(0, cutAtWhitespace(text, rawLength));
      const symbols: number[] = [];
      for (const char of SentencePieceTokenizer.normalize(prefix)) {
        const code = char.codePointAt(0) as number;
        if (symbols.length >= limit && (code === BOUNDARY_CODE || symbols.length >= 2 * limit)) return symbols;
        symbols.push(code);
      }
      if (whole) return symbols;
    }
  }
}

/** The last whitespace position at or before `at` (or `at` itself, not splitting a surrogate pair, if none). */
function cutAtWhitespace(text: string, at: number): number {
  for (let k = at; k > 0; k--) if (/\s/u.test(text[k])) return k;
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}
