/**
 * The kitty graphics protocol (kitty, Ghostty, WezTerm, Konsole): `ESC _ G <keys> ; <base64>
 * ESC \`. Images go as PNG (f=100), transmitted and displayed at the cursor in one command
 * (a=T), with replies suppressed (q=2) and the cursor left where it is (C=1). The base64
 * payload is cut into chunks of at most 4096 bytes, each a multiple of 4 but the last; every
 * chunk but the last has m=1, the last m=0. Re-transmitting an image id deletes the old image
 * and its placements, so a new frame under the same id replaces the previous one in place.
 */

/** The most base64 bytes one escape may carry. */
export const KITTY_CHUNK = 4096;

/** Displays `png` at the cursor as image `id` (1 … 2³²−1). */
export function encodeKitty(png: Uint8Array, id: number): string {
  const payload = png.toBase64();
  let out = "";
  for (let at = 0; at < payload.length; at += KITTY_CHUNK) {
    const more = at + KITTY_CHUNK < payload.length ? 1 : 0;
    // q=2 on every chunk: older kitty read it from each chunk, not the first (kitty issue 3375).
    const keys = at === 0 ? `a=T,f=100,q=2,C=1,i=${id},m=${more}` : `m=${more},q=2`;
    out += `\x1b_G${keys};${payload.slice(at, at + KITTY_CHUNK)}\x1b\\`;
  }
  return out;
}

/** Deletes image `id`, its placements and its data. */
export const kittyDelete = (id: number): string => `\x1b_Ga=d,d=I,i=${id},q=2\x1b\\`;

/**
 * Asks whether the terminal speaks the protocol: a 1×1 RGB image queried (a=q), never
 * displayed. A terminal that does answers `ESC _ G i=31;OK ESC \`.
 */
export const KITTY_QUERY = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\";
export const KITTY_QUERY_OK = "\x1b_Gi=31;OK\x1b\\";
