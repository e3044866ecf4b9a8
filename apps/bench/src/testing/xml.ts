// A strict-enough well-formedness check for the SVG the bench writes (no XML parser among the dependencies):
// one root element, every tag closed in order, attributes quoted, no bare ampersands or angle brackets.
export function isWellFormedXml(text: string): boolean {
  const tokens = text.match(/<[^>]*>|[^<]+/g) ?? [];
  const open: string[] = [];
  let roots = 0;
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      if (/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(token)) return false;
      if (open.length === 0 && token.trim()) return false;
      continue;
    }
    const closing = /^<\/([A-Za-z][\w:-]*)\s*>$/.exec(token);
    if (closing) {
      if (open.pop() !== closing[1]) return false;
      continue;
    }
    const opening = /^<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!opening) return false;
    if (open.length === 0) roots++;
    if (opening[3] !== '/') open.push(opening[1]);
  }
  return open.length === 0 && roots === 1;
}
