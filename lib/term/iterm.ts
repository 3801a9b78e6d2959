/**
 * iTerm2's inline images (iTerm2, WezTerm, mintty, VS Code's terminal): `ESC ] 1337 ;
 * File=inline=1;size=<bytes>;width=<w>px;height=<h>px;preserveAspectRatio=1 : <base64 PNG>
 * BEL`. The size is given in pixels, the image's own, so the terminal does not rescale it.
 */

export function encodeIterm(png: Uint8Array, width: number, height: number): string {
  const args =
    `inline=1;size=${png.length};width=${width}px;height=${height}px;preserveAspectRatio=1`;
  return `\x1b]1337;File=${args}:${png.toBase64()}\x07`;
}
