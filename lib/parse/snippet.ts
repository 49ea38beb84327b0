/**
 * The short plain-text preview of a message. Works on text already capped in size by the parser, so the
 * regular expressions here only ever see a bounded input.
 */

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  yen: '¥',
  euro: '€',
  pound: '£',
  cent: '¢',
  deg: '°',
  times: '×',
  divide: '÷',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  zwnj: '',
  zwj: '',
  shy: '',
  iexcl: '¡',
  iquest: '¿',
  sect: '§',
  para: '¶',
};

// HTML 4 Latin-1 entity names for U+00A0..U+00FF, in code point order.
const LATIN1 = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para ' +
  'middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml ' +
  'Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave ' +
  'aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml ' +
  'divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
).split(' ');
LATIN1.forEach((name, i) => {
  NAMED[name] ??= String.fromCharCode(0xa0 + i);
});

export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});?/g, (match, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return Object.hasOwn(NAMED, ref) ? NAMED[ref]! : match;
  });
}

/** Visible text of an HTML document: head, scripts, styles and comments dropped, block ends as spaces. */
export function htmlToPlain(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
      .replace(/<(head|script|style|title|template)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
      .replace(/<[^>]*>?/g, ' '),
  );
}

/** Whitespace collapsed, control characters removed, cut to `max` characters (code points, never half a pair). */
export function makeSnippet(text: string, max: number): string {
  const source = snippetSource(text, max * 2 + 2);
  // The first `max` code points: a surrogate pair counts as one and is never cut in half.
  let end = 0;
  for (let n = 0; n < max && end < source.length; n++) {
    const c = source.charCodeAt(end);
    const next = source.charCodeAt(end + 1); // NaN past the end
    end += c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return end >= source.length ? source : source.slice(0, end).trimEnd();
}

// Each run of whitespace becomes one space: runs of two or more, and single whitespace other than a space (a
// single space, the most common run by far, is left where it is rather than replaced by itself).
const collapse = (text: string): string =>
  text.replace(/[\u0000-\u0008\u000e-\u001f\u007f\u200b\ufeff]/g, '').replace(/\s{2,}|[^\S ]/g, ' ');

/**
 * The text collapsed and trimmed, as far as its first `want` code units go: only a prefix of a long body is read
 * (a snippet is a few hundred characters of a text of up to 256 KiB). Collapsing is local, so a prefix that
 * collapses to more than `want` + 1 units starts exactly like the whole text collapsed: at most its last unit is
 * a space that the whole would have kept or trimmed.
 */
function snippetSource(text: string, want: number): string {
  for (let n = want + (want >> 2) + 64; n < text.length; n *= 4) {
    const head = collapse(text.slice(0, n)).trimStart();
    if (head.length > want + 1) return head;
  }
  return collapse(text).trim();
}
