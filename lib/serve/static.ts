/** The only stylesheet: served from /static/app.css so the pages' policy can forbid inline styles. */
export const APP_CSS = `
:root { color-scheme: light; --fg: #1d2430; --muted: #5d6675; --line: #d9dee6; --accent: #1f5fbf; --bg: #f7f8fa; --ok: #1b7f3b; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #17243a; color: #fff; }
header.top .brand { font-weight: 600; }
header.top nav a { color: #cfd8e6; margin-right: 16px; text-decoration: none; }
header.top nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
main { padding: 16px 24px 40px; max-width: 1200px; }
h1 { font-size: 20px; margin: 8px 0 16px; word-break: break-word; }
h2 { font-size: 16px; margin: 20px 0 8px; }
a { color: var(--accent); }
form.search .row { display: flex; gap: 8px; }
form.search input[type=search] { flex: 1; padding: 8px 10px; font-size: 15px; border: 1px solid var(--line); border-radius: 6px; }
button, a.button { padding: 6px 14px; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent); color: #fff; font-size: 14px; text-decoration: none; cursor: pointer; display: inline-block; }
a.button { background: #fff; color: var(--accent); }
.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; margin: 10px 0; color: var(--muted); }
.filters input, .filters select { padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; }
.summary { display: flex; justify-content: space-between; align-items: center; margin: 12px 0; }
.exports a { margin-left: 6px; }
table.results { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
table.results th, table.results td { text-align: left; padding: 7px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.results th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.date { white-space: nowrap; color: var(--muted); }
td.from { white-space: nowrap; max-width: 220px; overflow: hidden; text-overflow: ellipsis; }
td.subject a { font-weight: 600; text-decoration: none; }
.snippet { color: var(--muted); font-size: 12px; max-height: 3em; overflow: hidden; }
.flag { display: inline-block; padding: 0 6px; margin: 0 2px 2px 0; border-radius: 8px; background: #eef1f5; font-size: 11px; }
.flag-spam, .flag-bounce { background: #fde7e4; }
.note { background: #fff8e1; border: 1px solid #f1dca0; padding: 6px 10px; border-radius: 6px; }
.empty { color: var(--muted); }
.pager { margin: 12px 0; display: flex; gap: 12px; }
article.message { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; }
table.headers th, details table th { text-align: left; color: var(--muted); padding: 2px 16px 2px 0; vertical-align: top; white-space: nowrap; font-weight: normal; }
table.headers td, details table td { word-break: break-word; }
details.all-headers { margin: 8px 0; }
details table { font-size: 12px; font-family: ui-monospace, monospace; }
.verified { color: var(--ok); font-weight: 600; }
.not-verified { color: var(--bad); font-weight: 700; }
.downloads .size, .attachments .size, .attachments .type { color: var(--muted); font-size: 12px; }
pre.text { white-space: pre-wrap; word-break: break-word; font: 14px/1.6 ui-monospace, "Noto Sans Mono CJK JP", monospace; background: #fbfbfc; border: 1px solid var(--line); padding: 12px; border-radius: 6px; }
iframe.body { width: 100%; height: 480px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
.remote { margin: 6px 0; color: var(--muted); }
.thread ol { padding-left: 20px; }
.thread .from, .thread .date, .thread .via { color: var(--muted); font-size: 12px; }
section.mailbox { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 20px 16px; margin-bottom: 16px; }
section.mailbox .host { color: var(--muted); font-weight: normal; font-size: 13px; }
table.facts th { text-align: left; color: var(--muted); font-weight: normal; padding: 2px 16px 2px 0; white-space: nowrap; vertical-align: top; }
.ok { color: var(--ok); font-weight: 600; }
.failed { color: var(--bad); font-weight: 600; }
.error .class { display: inline-block; padding: 0 6px; border-radius: 8px; background: #fde7e4; color: var(--bad); }
figure { margin: 12px 0 0; }
figcaption { color: var(--muted); font-size: 12px; margin-bottom: 4px; }
svg.chart .bar { fill: #8fb3e8; }
svg.chart .bytes { fill: none; stroke: #d9822b; stroke-width: 2; }
svg.chart .axis { stroke: #9aa3b0; }
svg.chart .label { font-size: 10px; fill: var(--muted); }
`;

/** Base style of the frame that shows a message's HTML (inline: the frame's own policy allows inline styles only). */
export const BODY_CSS =
  'body{margin:12px;font:14px/1.5 system-ui,"Noto Sans CJK JP",sans-serif;color:#1d2430;word-wrap:break-word}img{max-width:100%;height:auto}img[data-blocked]{display:inline-block;min-width:24px;min-height:16px;border:1px dashed #c3c9d2}';
