/**
 * A 5×7 pixel font for printable ASCII, for labels in rendered PNGs (scatter-plot legends):
 * the project has no canvas or font rasteriser in Node, and a legend needs only short names.
 * Each glyph is 5 column bytes, bit 0 = top row (the classic HD44780-style layout).
 */
const GLYPHS =
  '0000000000' + '00005f0000' + '0007000700' + '147f147f14' + '242a7f2a12' + '2313086462' + '3649552250' + '0000070000' + // space ! " # $ % & '
  '001c224100' + '0041221c00' + '2a1c7f1c2a' + '08083e0808' + '0050300000' + '0808080808' + '0060600000' + '2010080402' + // ( ) * + , - . /
  '3e5149453e' + '00427f4000' + '4261514946' + '2141454b31' + '1814127f10' + '2745454539' + '3c4a494930' + '0171090503' + // 0-7
  '3649494936' + '064949291e' + '0036360000' + '0056360000' + '0008142241' + '1414141414' + '4122140800' + '0201510906' + // 8 9 : ; < = > ?
  '324979413e' + '7e1111117e' + '7f49494936' + '3e41414122' + '7f4141221c' + '7f49494941' + '7f09090901' + '3e41495a3a' + // @ A-G
  '7f0808087f' + '00417f4100' + '2040413f01' + '7f08142241' + '7f40404040' + '7f020c027f' + '7f0408107f' + '3e4141413e' + // H-O
  '7f09090906' + '3e4151215e' + '7f09192946' + '4649494931' + '01017f0101' + '3f4040403f' + '1f2040201f' + '3f4038403f' + // P-W
  '6314081463' + '0708700807' + '6151494543' + '007f414100' + '0204081020' + '0041417f00' + '0402010204' + '4040404040' + // X Y Z [ \ ] ^ _
  '0001020400' + '2054545478' + '7f48444438' + '3844444420' + '384444487f' + '3854545418' + '087e090102' + '0c5252523e' + // ` a-g
  '7f08040478' + '00447d4000' + '2040443d00' + '7f10284400' + '00417f4000' + '7c04180478' + '7c08040478' + '3844444438' + // h-o
  '7c14141408' + '081414187c' + '7c08040408' + '4854545420' + '043f444020' + '3c4040207c' + '1c2040201c' + '3c4030403c' + // p-w
  '4428102844' + '0c5050503c' + '4464544c44' + '0008364100' + '00007f0000' + '0041360800' + '0201020402'; // x y z { | } ~

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/** Column bytes of a character (unknown characters render as '?'). */
export function glyph(ch: string): number[] {
  let code = ch.charCodeAt(0);
  if (!(code >= 32 && code <= 126)) code = 63;
  const o = (code - 32) * 10;
  const cols: number[] = [];
  for (let c = 0; c < GLYPH_WIDTH; c++) cols.push(parseInt(GLYPHS.slice(o + 2 * c, o + 2 * c + 2), 16));
  return cols;
}

/** Width in pixels of `text` drawn at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale = 1): number {
  return text.length ? (text.length * (GLYPH_WIDTH + 1) - 1) * scale : 0;
}

/** Draws `text` into an RGBA buffer with its top-left corner at (x, y). */
export function drawText(
  data: Uint8Array,
  width: number,
  height: number,
  text: string,
  x: number,
  y: number,
  rgb: readonly [number, number, number],
  scale = 1,
): void {
  let cx = x;
  for (const ch of text) {
    const cols = glyph(ch);
    for (let c = 0; c < GLYPH_WIDTH; c++) {
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        if (!((cols[c] >> r) & 1)) continue;
        for (let sy = 0; sy < scale; sy++) {
          for (let sx = 0; sx < scale; sx++) {
            const px = cx + c * scale + sx;
            const py = y + r * scale + sy;
            if (px < 0 || py < 0 || px >= width || py >= height) continue;
            const o = (py * width + px) * 4;
            data[o] = rgb[0];
            data[o + 1] = rgb[1];
            data[o + 2] = rgb[2];
            data[o + 3] = 255;
          }
        }
      }
    }
    cx += (GLYPH_WIDTH + 1) * scale;
  }
}
