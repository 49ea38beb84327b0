import sanitizeHtml from 'sanitize-html';

export interface SanitizeOptions {
  /** Let http(s) images and styles through (the reader clicked "load remote content"). @default false */
  readonly remote?: boolean;
  /**
   * The `data:` URL of an inline part named by `cid:`, or null when the message has no such image. Inline parts
   * are embedded rather than linked: the sandboxed frame has an opaque origin, so its requests would not carry
   * the SameSite=Strict session cookie, and an embedded image needs no request at all.
   */
  readonly cidUrl?: (contentId: string) => string | null;
}

/** Tags of ordinary mail formatting. Nothing that runs, embeds, submits or navigates by itself. */
const TAGS = [
  'a',
  'abbr',
  'address',
  'b',
  'big',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'font',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'tt',
  'u',
  'ul',
  'wbr',
];

const LAYOUT_ATTRIBUTES = ['align', 'valign', 'width', 'height', 'bgcolor', 'color', 'border', 'dir', 'lang', 'title', 'style', 'id'];

const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[a-z0-9+/=\s]+$/i;
const REMOTE = /^https?:\/\//i;

/**
 * Inline style with every resource reference removed (url(), image-set(), @import, legacy expression() and
 * bindings), unless remote content is allowed, in which case only http(s) url()s stay. The frame's
 * Content-Security-Policy blocks the same loads again; this keeps the markup honest about what it asks for.
 */
export function cleanStyle(style: string, remote: boolean): string {
  let s = style.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\\/g, '');
  if (/expression\s*\(|behavior\s*:|-moz-binding|@import/i.test(s)) return '';
  s = s.replace(/url\s*\(\s*(['"]?)(.*?)\1\s*\)/gi, (m, _q: string, target: string) => (remote && REMOTE.test(target.trim()) ? m : 'none'));
  s = s.replace(/image-set\s*\([^)]*\)/gi, 'none');
  return s.length > 10_000 ? '' : s;
}

/**
 * Reduces a message's HTML to an allow-list of formatting (sanitize-html: a maintained, parser-based
 * sanitizer). No script, handler, form, frame, object, base, meta or stylesheet survives; links keep only http(s),
 * mailto and tel targets and open outside the archive; images keep `cid:` parts (served by us) and small data
 * images, and remote ones only when asked for.
 */
export function sanitizeMessageHtml(input: string, options: SanitizeOptions = {}): string {
  const remote = options.remote ?? false;
  return sanitizeHtml(input, {
    allowedTags: TAGS,
    // <style> and <script> contents go with their elements; everything else not allowed keeps its text.
    nonTextTags: [
      'style',
      'script',
      'textarea',
      'option',
      'noscript',
      'title',
      'head',
      'template',
      'xmp',
      'iframe',
      'object',
      'svg',
      'math',
    ],
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      '*': LAYOUT_ATTRIBUTES,
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'data-blocked'],
      font: ['color', 'face', 'size'],
      td: ['colspan', 'rowspan', 'nowrap'],
      th: ['colspan', 'rowspan', 'nowrap'],
      table: ['cellpadding', 'cellspacing', 'summary'],
      col: ['span'],
      ol: ['start', 'type'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: remote ? ['http', 'https', 'data'] : ['data'] },
    allowProtocolRelative: false,
    allowedSchemesAppliedToAttributes: ['href', 'src'],
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer' } }),
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').trim();
        const out: Record<string, string> = { ...attribs };
        delete out.src;
        if (/^cid:/i.test(src)) {
          const url = options.cidUrl?.(src.slice(4)) ?? null;
          if (url !== null && SAFE_DATA_IMAGE.test(url)) out.src = url;
        } else if (SAFE_DATA_IMAGE.test(src)) {
          out.src = src;
        } else if (REMOTE.test(src)) {
          if (remote) out.src = src;
          else out['data-blocked'] = 'remote';
        }
        return { tagName, attribs: out };
      },
      '*': (tagName, attribs) => {
        if (attribs.style === undefined) return { tagName, attribs };
        const style = cleanStyle(attribs.style, remote);
        const out = { ...attribs };
        if (style.trim() === '') delete out.style;
        else out.style = style;
        return { tagName, attribs: out };
      },
    },
  });
}

/** The Content-Security-Policy of the frame that shows a message body: nothing runs, nothing remote unless asked. */
export function bodyFramePolicy(remote: boolean): string {
  const net = remote ? ' http: https:' : '';
  return [
    "default-src 'none'",
    `img-src data:${net}`,
    `style-src 'unsafe-inline'${net}`,
    `font-src${remote ? net : " 'none'"}`,
    "script-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
    // Also when the body's address is opened on its own: still no scripts, no same-origin access.
    'sandbox allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}
