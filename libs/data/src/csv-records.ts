// RFC 4180 record splitting for CSV and TSV, fed chunk by chunk so a large file is never one string.
// Quoted fields may hold delimiters, doubled quotes and line breaks; CRLF, LF and lone CR all end a record
// (a line break inside a quoted field comes out as '\n'). A quote inside an unquoted field is kept literally,
// as spreadsheet exports of free text (12" records) rely on that.

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** Set when the record breaks the quoting rules; its fields are then a best effort. */
  malformed?: string;
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted';

export async function* csvRecords(chunks: AsyncIterable<string>, delimiter: string): AsyncGenerator<CsvRecord> {
  let state: State = 'fieldStart';
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let inRecord = false;
  let malformed: string | undefined;
  let afterCarriageReturn = false;

  const endRecord = (): CsvRecord => {
    fields.push(field);
    const record: CsvRecord = malformed ? { fields, line: recordLine, malformed } : { fields, line: recordLine };
    field = '';
    fields = [];
    inRecord = false;
    malformed = undefined;
    state = 'fieldStart';
    return record;
  };

  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      let char = chunk[i];
      if (afterCarriageReturn) {
        afterCarriageReturn = false;
        if (char === '\n') continue;
      }
      if (char === '\r') {
        afterCarriageReturn = true;
        char = '\n';
      }
      if (!inRecord) {
        if (char === '\n') {
          line++;
          continue;
        }
        inRecord = true;
        recordLine = line;
      }
      switch (state) {
        case 'fieldStart':
          if (char === '"') state = 'quoted';
          else if (char === delimiter) fields.push('');
          else if (char === '\n') yield endRecord();
          else {
            field += char;
            state = 'unquoted';
          }
          break;
        case 'unquoted':
          if (char === delimiter) {
            fields.push(field);
            field = '';
            state = 'fieldStart';
          } else if (char === '\n') yield endRecord();
          else field += char;
          break;
        case 'quoted':
          if (char === '"') state = 'quoteInQuoted';
          else field += char;
          break;
        case 'quoteInQuoted':
          if (char === '"') {
            field += '"';
            state = 'quoted';
          } else if (char === delimiter) {
            fields.push(field);
            field = '';
            state = 'fieldStart';
          } else if (char === '\n') yield endRecord();
          else {
            malformed ??= `unexpected ${JSON.stringify(char)} after the closing quote of field ${fields.length + 1}`;
            field += char;
            state = 'unquoted';
          }
          break;
      }
      if (char === '\n') line++;
    }
  }
  if (state === 'quoted') {
    malformed ??= `the quoted field ${fields.length + 1} is never closed`;
  }
  if (inRecord) yield endRecord();
}
