// Spreadsheet programs and Windows editors often start UTF-8 files with a byte order mark; it is not data.

const BYTE_ORDER_MARK = '\uFEFF';

export function stripBom(text: string): string {
  return text.startsWith(BYTE_ORDER_MARK) ? text.slice(BYTE_ORDER_MARK.length) : text;
}
