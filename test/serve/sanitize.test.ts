import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bodyFramePolicy, cleanStyle, sanitizeMessageHtml } from '../../lib/serve/sanitize.ts';
import { hostileHtml } from '../search/archive-fixture.ts';

describe('HTML body sanitizer', () => {
  const remote = 'http://tracker.example';
  const hostile = hostileHtml(remote).toString('utf8').split('\r\n\r\n').slice(1).join('\r\n\r\n');

  it('leaves nothing that runs, loads, submits or navigates by itself', () => {
    const out = sanitizeMessageHtml(hostile);
    for (const bad of [
      /<script/i,
      /onerror/i,
      /onload/i,
      /javascript:/i,
      /<iframe/i,
      /<form/i,
      /<input/i,
      /<object/i,
      /<embed/i,
      /<link/i,
      /<meta/i,
      /<base/i,
      /<style/i,
      /<svg/i,
      /<video/i,
      /tracker\.example/,
      /@import/,
      /url\(/i,
    ]) {
      assert.doesNotMatch(out, bad, String(bad));
    }
    assert.match(out, /<h1 id="greeting">Quarterly update<\/h1>/);
    assert.match(out, /<a id="safelink" href="https:\/\/example\.com\/docs" target="_blank" rel="noopener noreferrer">documentation<\/a>/);
    assert.match(out, /<img id="tracker" alt="tracker" data-blocked="remote" \/>/);
  });

  it('lets remote images and style urls through only when asked; scripts never', () => {
    const out = sanitizeMessageHtml(hostile, { remote: true });
    assert.match(out, /<img id="tracker"[^>]* src="http:\/\/tracker\.example\/tracker\.png"/);
    assert.match(out, /background-image: ?url\('http:\/\/tracker\.example\/inline-style\.png'\)/);
    assert.doesNotMatch(out, /<script|onerror|javascript:|<iframe|<link|@import/i);
  });

  it('embeds cid: parts only as data: images, and drops unsafe data: URLs', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const html =
      '<img src="cid:logo@x"><img src="cid:evil@x"><img src="data:text/html;base64,PHNjcmlwdD4="><img src="data:image/svg+xml;base64,PHN2Zz4=">';
    const out = sanitizeMessageHtml(html, { cidUrl: (cid) => (cid === 'logo@x' ? png : cid === 'evil@x' ? 'javascript:alert(1)' : null) });
    assert.equal(out, `<img src="${png}" /><img /><img /><img />`);
  });

  it('cleans inline styles of every resource reference and legacy script hooks', () => {
    assert.equal(cleanStyle('color: red; background: url(http://x/y.png)', false), 'color: red; background: none');
    assert.equal(cleanStyle('background: u\\rl(http://x)', false), 'background: none');
    assert.equal(cleanStyle('width: expression(alert(1))', true), '');
    assert.equal(cleanStyle('behavior: url(x.htc)', true), '');
    assert.equal(cleanStyle('background: image-set("a.png" 1x)', false), 'background: none');
    assert.equal(cleanStyle('background: url(data:image/png;base64,AAAA)', true), 'background: none', 'only http(s) even with remote on');
  });

  it('the frame policy forbids scripts and remote loads, and sandboxes the document itself', () => {
    const p = bodyFramePolicy(false);
    assert.match(p, /default-src 'none'/);
    assert.match(p, /script-src 'none'/);
    assert.match(p, /img-src data:;/);
    assert.match(p, /sandbox allow-popups allow-popups-to-escape-sandbox/);
    assert.doesNotMatch(p, /allow-scripts|allow-same-origin|http:/);
    assert.match(bodyFramePolicy(true), /img-src data: http: https:/);
  });
});
