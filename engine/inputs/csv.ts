// Parsing comma-separated numbers (RFC 4180 quoting, LF / CRLF / CR line ends, a UTF-8 BOM) into rows of float64,
// with an optional header of column names. The header rule cannot shift data rows: see readCsv. Building samples from
// the rows is samples.ts's job.
import { InvalidInputError, NonFiniteError, ShapeMismatchError } from '../contracts/errors.js';
import { MAX_SAMPLES } from './limits.js';
import { preview } from './preview.js';

/** Rows of a CSV file of numbers. */
export interface CsvTable {
  /** Column names, when the first record is a header. */
  readonly header?: readonly string[];
  /** One row per data record, each of `width` finite numbers. */
  readonly rows: readonly Float64Array[];
  readonly width: number;
}

/** A finite decimal number as CSV writers print it: no hex, no "Infinity", no spaces inside, no thousands separators. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Spellings of NaN and infinities (numpy, pandas, R, Excel, JavaScript). */
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
/** Spellings of a missing value (in lower, upper or title case: "Na", sodium, is a name); a header may not use them
 *  as names, so a missing first value is never a header. */
const MISSING_WORDS = ['na', 'n/a', '#n/a', 'null', 'none', 'nil', 'missing', '-', '?'];
const MISSING = new Set(MISSING_WORDS.flatMap((w) => [w, w.toUpperCase(), ...(w.length > 2 ? [w[0].toUpperCase() + w.slice(1)] : [])]));

/**
 * Parses CSV text of numbers. The first record is a header only when EVERY cell of it is a name: not empty, not a
 * number, not a NaN/Inf spelling and not a missing-value marker (NA, null, …). A first record with any number in it is
 * data, so a bad cell in the first data row is reported, never taken for a header; a first record 0,1,…,k−1 (k ≥ 3,
 * pandas' names for unnamed columns) is refused as ambiguous. Blank lines may only trail.
 * Rows and columns in messages count from 0 (as --row and --players do); lines count from 1. Records are turned
 * into rows as they are read, and reading stops at MAX_SAMPLES rows.
 * @param text - the file's text (a BOM is dropped)
 * @param source - the path, for messages
 * @returns the header (if any) and the rows
 * @throws InvalidInputError for an empty file, a header without rows, too many rows, duplicate column names, bad
 *   quoting, empty or non-numeric cells; NonFiniteError for NaN / Inf cells and numbers that overflow float64;
 *   ShapeMismatchError for a row whose column count differs from the first row's
 */
export function readCsv(text: string, source: string): CsvTable {
  /** A header cell: not a number, not NaN/Inf, not empty, not NA. */
  const isName = (c: string) => c !== '' && !DECIMAL.test(c) && !NON_FINITE.test(c) && !MISSING.has(c);
  let header: string[] | undefined;
  let width = -1;
  let blankLine = 0; // the first blank line not yet followed by a record (0: none)
  const rows: Float64Array[] = [];
  tokenize(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, source, (cells, line, blank) => {
    if (blank) {
      blankLine ||= line;
      return;
    }
    if (blankLine) throw new InvalidInputError(`${source} line ${blankLine} is blank; remove blank lines (only trailing ones are ignored) or fill in the row.`);
    if (width < 0) {
      width = cells.length;
      if (cells.every(isName)) {
        checkHeader(cells, line, source);
        header = cells;
        return;
      }
      // pandas' to_csv writes its index as a first column with an empty name: a header all of names but that one
      if (width >= 2 && cells[0] === '' && cells.slice(1).every(isName)) {
        throw new InvalidInputError(
          `${source} line ${line} is a header whose first column has no name: the index column pandas writes (DataFrame.to_csv). ` +
            'Write the file without it (to_csv(..., index=False)), or name every column.',
        );
      }
      // pandas names unnamed columns 0, 1, …: such a first row is a header that looks like data, and read as data it
      // would shift every row by one, so neither reading is safe
      if (width >= 3 && cells.every((c, k) => c === String(k))) {
        throw new InvalidInputError(
          `${source} line ${line} is 0,1,…,${width - 1}: the column names pandas writes for unnamed columns (DataFrame.to_csv), or a row of data? ` +
            'andor cannot tell. Write the file with names (pd.DataFrame(X, columns=names)) or without a header (to_csv(..., header=False, index=False)).',
        );
      }
    }
    const row = rows.length;
    if (row >= MAX_SAMPLES) throw new InvalidInputError(`${source} has more than ${MAX_SAMPLES} data rows (line ${line}); andor reads at most ${MAX_SAMPLES} samples from a file.`);
    if (cells.length !== width) {
      throw new ShapeMismatchError(
        `${source} row ${row} has ${cells.length} columns but the ${header ? 'header' : 'first row'} has ${width} (line ${line}). ` +
          'Every row needs the same number of comma-separated values.',
      );
    }
    const values = new Float64Array(width);
    for (let column = 0; column < width; column++) values[column] = readCell(cells[column], row, column, line, header, source);
    rows.push(values);
  });
  if (width < 0) throw new InvalidInputError(`${source} is empty; expected CSV rows of comma-separated numbers.`);
  if (rows.length === 0) {
    const separator = header!.some((name) => /[;\t]/.test(name)) ? ' andor reads comma-separated values; the file seems to use ";" or tabs.' : '';
    throw new InvalidInputError(`${source} has a header (${preview(header!.join(','))}) but no data rows; add at least one row of numbers.${separator}`);
  }
  return { header, rows, width };
}

function checkHeader(header: readonly string[], line: number, source: string): void {
  const seen = new Map<string, number>();
  header.forEach((name, column) => {
    const before = seen.get(name);
    if (before !== undefined) {
      throw new InvalidInputError(`${source} header (line ${line}): columns ${before} and ${column} are both named ${preview(name)}; give each column a distinct name.`);
    }
    seen.set(name, column);
  });
}

function readCell(cell: string, row: number, column: number, line: number, header: readonly string[] | undefined, source: string): number {
  const where = `${source} row ${row}, column ${column}${header ? ` (${preview(header[column])})` : ''}, line ${line}`;
  if (DECIMAL.test(cell)) {
    const value = Number(cell);
    if (Number.isFinite(value)) return value;
    throw new NonFiniteError(`${where}: ${cell} overflows float64 (beyond ±1.8e308); samples must be finite numbers.`);
  }
  if (NON_FINITE.test(cell)) throw new NonFiniteError(`${where} is ${cell}; samples must be finite numbers. Fill in the value or drop the row.`);
  if (cell === '') throw new InvalidInputError(`${where} is empty; every cell of a data row must hold a number.`);
  if (MISSING.has(cell)) throw new InvalidInputError(`${where} is ${preview(cell)}, a missing value; every cell of a data row must hold a number.`);
  let hint = 'Write plain decimal numbers such as 1.5 or -2e-3.';
  if (/[;\t]/.test(cell)) hint = 'andor reads comma-separated values; the file seems to use ";" or tabs.';
  else if (/^[+-]?\d+,\d+$/.test(cell)) hint = 'Use a point as the decimal separator.';
  else if (row === 0 && !header) hint = 'A header row must name every column (no numbers, no empty names); otherwise the row is data.';
  throw new InvalidInputError(`${where} is ${preview(cell)}, not a number. ${hint}`);
}

/** Splits CSV text into records of cells (RFC 4180: quotes around a cell, "" for a quote inside one), handing each
 *  to `onRecord` with the line it starts on and whether it is a blank line. */
function tokenize(text: string, source: string, onRecord: (cells: string[], line: number, blank: boolean) => void): void {
  const length = text.length;
  let at = 0;
  let line = 1;
  while (at < length) {
    const startLine = line;
    const cells: string[] = [];
    let anyQuoted = false;
    for (;;) {
      while (text[at] === ' ' || text[at] === '\t') at++;
      let cell: string;
      if (text[at] === '"') {
        anyQuoted = true;
        const cellLine = line;
        let value = '';
        let from = ++at;
        for (;;) {
          const quote = text.indexOf('"', at);
          if (quote < 0) throw new InvalidInputError(`${source} line ${cellLine}: a quoted cell is never closed; add the closing ".`);
          value += text.slice(from, quote);
          for (let i = at; i < quote; i++) if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] !== '\n')) line++;
          if (text[quote + 1] === '"') {
            value += '"';
            at = from = quote + 2;
          } else {
            at = quote + 1;
            break;
          }
        }
        while (text[at] === ' ' || text[at] === '\t') at++;
        if (at < length && text[at] !== ',' && text[at] !== '\n' && text[at] !== '\r') {
          throw new InvalidInputError(`${source} line ${line}: text follows a closing quote; quote the whole cell and write a quote inside it as "".`);
        }
        cell = value;
      } else {
        let end = at;
        while (end < length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
        cell = text.slice(at, end).trim();
        if (cell.includes('"')) throw new InvalidInputError(`${source} line ${line}: a quote inside the unquoted cell ${preview(cell)}; quote the whole cell and write a quote inside it as "".`);
        at = end;
      }
      cells.push(cell);
      if (text[at] === ',') {
        at++;
        continue;
      }
      if (text[at] === '\r') at++;
      if (text[at] === '\n') at++;
      line++;
      break;
    }
    onRecord(cells, startLine, !anyQuoted && cells.length === 1 && cells[0] === '');
  }
}
