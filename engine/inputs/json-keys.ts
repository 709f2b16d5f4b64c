// Keys given twice in one JSON object. JSON.parse keeps the last of them in silence: a sample whose "x" or "label"
// was written twice (a merge, a script that appends) would be explained with whichever came last. One pass over the
// text's strings and punctuation (a native regex skips the numbers between them), after JSON.parse accepted it.
// Why not a library: secure-json-parse refuses prototype keys but lets duplicates through, and the parsers that find
// them (jsonlint and its kin) parse the whole text again in JavaScript; this needs only the keys and where they are.

/** A key that one object holds twice, and the path of that object ("" for the root; `.samples[3]`). */
export interface DuplicateKey {
  readonly key: string;
  readonly path: string;
}

/** An array of numbers and literals only (skipped whole: it holds no key), a string (with its escapes), or one of the
 *  punctuation characters that shape the structure. */
const TOKEN = /\[[^[\]{}"]*\]|"(?:[^"\\]|\\.)*"|[{}[\]:,]/g;

interface Frame {
  /** The object's keys so far; undefined for an array. */
  readonly keys?: Set<string>;
  /** Object: the key of the value being read; array: the index of the element being read. */
  at: string | number;
  /** Object: the next string is a key. */
  expectKey: boolean;
}

/** A key as a path step: `.name` for identifier-like keys, else `["…"]`. */
const step = (at: string | number) => (typeof at === 'number' ? `[${at}]` : /^[A-Za-z_$][\w$]*$/.test(at) ? `.${at}` : `[${JSON.stringify(at)}]`);

/**
 * The first key that one object of a JSON text holds twice.
 * @param text - JSON that JSON.parse accepts
 * @returns the key and the path of its object, or undefined when every object's keys are distinct
 */
export function duplicateKey(text: string): DuplicateKey | undefined {
  // no object, no key
  if (!text.includes('{')) return undefined;
  const stack: Frame[] = [];
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const token = match[0];
    const top = stack[stack.length - 1];
    switch (token) {
      case '{':
        stack.push({ keys: new Set(), at: '', expectKey: true });
        break;
      case '[':
        stack.push({ at: 0, expectKey: false });
        break;
      case '}':
      case ']':
        stack.pop();
        break;
      case ',':
        if (top?.keys) top.expectKey = true;
        else if (top) top.at = (top.at as number) + 1;
        break;
      case ':':
        if (top) top.expectKey = false;
        break;
      default:
        if (token.charCodeAt(0) === 0x5b) break; // a flat array: one value
        if (top?.keys && top.expectKey) {
          const key = JSON.parse(token) as string;
          if (top.keys.has(key)) return { key, path: stack.slice(0, -1).map((frame) => step(frame.at)).join('') };
          top.keys.add(key);
          top.at = key;
        }
    }
  }
  return undefined;
}
