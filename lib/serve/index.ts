export { startServer, type RunningServer, type ServeContext, type ServeOptions } from './server.ts';
export { startRefresher, type Refresher } from './refresher.ts';
export { AccessGate } from './auth.ts';
export { negotiateLang, translator, type Lang } from './i18n.ts';
export { sanitizeMessageHtml, bodyFramePolicy } from './sanitize.ts';
