import { decodeEntities } from '../snippet.ts';

/**
 * Stands in for the `he` HTML entity package in the CLI and Lambda bundles (aliases.mjs), ~73 KiB of
 * entity tables. mailparser calls it only to build HTML views of text and headers: turned off in the ingest
 * parser (`skipTextToHtml`), and in the attachment processor it escapes the headers of an attached message into
 * HTML the processor discards. Escaping the five markup characters (and everything outside ASCII, as `he` does by
 * default) keeps that output safe HTML.
 */
const encode = (text: string): string =>
  String(text).replace(/[&<>"'`]|[^\x00-\x7f]/gu, (c) => `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`);
const escapeHtml = (text: string): string => String(text).replace(/[&<>"'`]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
const decode = (html: string): string => decodeEntities(String(html));

export default { version: 'mail-ingest-shim', encode, decode, escape: escapeHtml, unescape: decode };
