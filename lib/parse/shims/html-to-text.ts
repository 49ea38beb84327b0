import { htmlToPlain } from '../snippet.ts';

/**
 * Stands in for the html-to-text package in the CLI and Lambda bundles (aliases.mjs). mailparser
 * imports it for its HTML-to-text conversion, which every parser in this project turns off (`skipHtmlToText`):
 * bundling it and its HTML parser cost ~170 KiB of cold start for code that never runs. Should a caller turn the
 * conversion on, it gets our own snippet conversion rather than an error.
 */
export function htmlToText(html: string): string {
  return htmlToPlain(String(html))
    .replace(/[ \t]+/g, ' ')
    .trim();
}

export const convert = htmlToText;

export function compile(): (html: string) => string {
  return htmlToText;
}
