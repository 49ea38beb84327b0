// Thread keys: the normalised subject and Message-ID by which replies find their thread (tickets, search).
/**
 * Reply and forward markers mail clients put before a subject, in the languages our users' correspondents write:
 * English (Re, Fw, Fwd), German (AW, WG), Nordic (SV, VS), French (TR), Spanish (RV), Dutch (Antw), Japanese
 * (返信, 転送), Chinese (回复, 回覆, 转发, 轉寄), Korean (답장, 전달). A counter may follow: Re[2]:, Re(3):, Re^2:.
 * Matched after NFKC, so full-width "Ｒｅ：" is "Re:".
 */
const MARKER = String.raw`(?:re|fwd?|aw|wg|sv|vs|tr|rv|antw|返信|転送|回复|回覆|转发|轉寄|답장|전달)(?:\s*\[\d+\]|\s*\(\d+\)|\^\d+)?\s*:`;
const LEADING_MARKERS = new RegExp(String.raw`^(?:\s*${MARKER})+\s*`, 'iu');
/** Mailing-list software puts its tag before the marker: "[list] Re: x". The tag is kept, the marker dropped. */
const TAG_THEN_MARKERS = new RegExp(String.raw`^(\s*\[[^\]]{1,64}\]\s*)((?:\s*${MARKER})+\s*)`, 'iu');

export interface NormalisedSubject {
  /** Lower-case, NFKC, markers removed, whitespace collapsed; '' when nothing is left. */
  readonly key: string;
  /** True when a reply or forward marker was removed: only such messages may join a thread by subject. */
  readonly hadMarker: boolean;
}

export function normaliseSubject(subject: string | null | undefined): NormalisedSubject {
  if (subject === null || subject === undefined) return { key: '', hadMarker: false };
  let s = subject.normalize('NFKC').replace(/\s+/gu, ' ').trim();
  let hadMarker = false;
  // Markers can alternate with tags ("Re: [list] Re: x"); strip until nothing changes.
  for (;;) {
    const before = s;
    s = s.replace(LEADING_MARKERS, '');
    s = s.replace(TAG_THEN_MARKERS, '$1');
    if (s === before) break;
    hadMarker = true;
  }
  return { key: s.replace(/\s+/gu, ' ').trim().toLowerCase(), hadMarker };
}

/** `<a@b>` and `a@b` are the same id; surrounding space and brackets vary between headers and clients. */
export function normaliseMessageId(id: string): string {
  return id.trim().replace(/^<+/, '').replace(/>+$/, '').trim();
}
