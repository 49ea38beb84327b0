/**
 * Where a JSON text first breaks RFC 8259, and what was expected there, in words that never quote the text: a
 * config file's syntax error often sits right beside a literal password (a missing quote, a missing comma), and
 * V8's own message quotes the characters around it ("Unexpected token 'h', ..."password": hunter2"...").
 */

export interface JsonSyntaxProblem {
  /** Offset (UTF-16 units) of the first offending character; the text's length when it ends too early. */
  readonly offset: number;
  readonly message: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPE = /\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

type Expect = 'value' | 'key' | 'colon' | 'object-next' | 'array-next' | 'end';

/** The first syntax problem of `text`, or null when it is valid JSON. Iterative: any nesting depth is fine. */
export function findJsonSyntaxProblem(text: string): JsonSyntaxProblem | null {
  const stack: Array<'{' | '['> = [];
  let i = 0;
  let expect: Expect = 'value';
  const fail = (message: string, at = i): JsonSyntaxProblem => ({
    offset: at,
    message: at >= text.length ? `the file ends too early: ${message}` : message,
  });
  const afterValue = (): Expect => (stack.length === 0 ? 'end' : stack.at(-1) === '{' ? 'object-next' : 'array-next');
  const skipWs = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  /** Scans a string at `i` (on its opening quote); returns a problem or null. */
  const scanString = (): JsonSyntaxProblem | null => {
    i++;
    for (;;) {
      if (i >= text.length) return fail('a string is not closed (a " is missing)');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20)
        return fail(
          'a control character (a line break or tab) inside a string: write it as an escape such as \\n, or close the string with "',
        );
      if (c === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) return fail('an invalid escape sequence in a string (a backslash must be written \\\\)');
        i = ESCAPE.lastIndex;
      } else {
        i++;
      }
    }
  };

  for (;;) {
    skipWs();
    if (expect === 'end') return i >= text.length ? null : fail('unexpected text after the end of the JSON value');
    if (i >= text.length) return fail(expect === 'value' ? 'a value is missing' : 'a closing } or ] is missing');
    const ch = text[i]!;
    switch (expect) {
      case 'value': {
        if (ch === '{' || ch === '[') {
          stack.push(ch);
          i++;
          skipWs();
          if (text[i] === (ch === '{' ? '}' : ']')) {
            stack.pop();
            i++;
            expect = afterValue();
          } else expect = ch === '{' ? 'key' : 'value';
          continue;
        }
        if (ch === '"') {
          const p = scanString();
          if (p) return p;
          expect = afterValue();
          continue;
        }
        for (const word of ['true', 'false', 'null']) {
          if (text.startsWith(word, i)) {
            i += word.length;
            expect = afterValue();
            break;
          }
        }
        if (expect !== 'value') continue;
        NUMBER.lastIndex = i;
        if (/[-0-9]/.test(ch) && NUMBER.test(text)) {
          i = NUMBER.lastIndex;
          expect = afterValue();
          continue;
        }
        return fail('a value was expected here: a string in double quotes, a number, true, false, null, an object or an array');
      }
      case 'key': {
        if (ch !== '"') return fail('a property name in double quotes was expected here');
        const p = scanString();
        if (p) return p;
        expect = 'colon';
        continue;
      }
      case 'colon':
        if (ch !== ':') return fail('a ":" was expected after the property name');
        i++;
        expect = 'value';
        continue;
      case 'object-next':
      case 'array-next': {
        const close = expect === 'object-next' ? '}' : ']';
        if (ch === ',') {
          i++;
          skipWs();
          if (text[i] === close) return fail(`a trailing comma before "${close}" (JSON allows none)`);
          expect = expect === 'object-next' ? 'key' : 'value';
          continue;
        }
        if (ch === close) {
          stack.pop();
          i++;
          expect = afterValue();
          continue;
        }
        return fail(`a "," or "${close}" was expected after the ${expect === 'object-next' ? 'property value' : 'array element'}`);
      }
    }
  }
}

/** 1-based line and column of an offset. */
export function lineAndColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
