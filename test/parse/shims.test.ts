import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import he from '../../lib/parse/shims/he.ts';
import { compile, htmlToText } from '../../lib/parse/shims/html-to-text.ts';
import { MODULE_ALIASES } from '../../lib/parse/shims/aliases.mjs';

/** The stand-ins the Lambda and CLI bundles use for mailparser's unused HTML helpers (lib/parse/shims/aliases.mjs). */
describe('bundle shims for html-to-text and he', () => {
  it('are what the bundles alias', () => {
    assert.equal(MODULE_ALIASES['html-to-text'], './lib/parse/shims/html-to-text.ts');
    assert.equal(MODULE_ALIASES['he'], './lib/parse/shims/he.ts');
  });

  it('html-to-text: visible text, scripts and tags dropped, entities decoded', () => {
    assert.equal(htmlToText('<p>Hello &amp; <b>welcome</b></p><script>x()</script>'), 'Hello & welcome');
    assert.equal(compile()('<div>a</div>'), 'a');
  });

  it('he: encode leaves no markup character or non-ASCII raw, decode reverses it', () => {
    const s = '<a href="x">Tom & Jerry\'s `café` ☃</a>';
    const encoded = he.encode(s);
    assert.doesNotMatch(encoded, /[<>"'`]|[^\x00-\x7f]/);
    assert.equal(he.decode(encoded), s);
    assert.equal(he.escape('<b>é</b>'), '&#x3C;b&#x3E;é&#x3C;/b&#x3E;');
  });
});
