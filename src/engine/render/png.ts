/** PNG encoding for rendered images (CLI output, report), without tfjs-node. */
import { PNG } from 'pngjs';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major RGBA. */
  data: Uint8Array;
}

export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}

export function pngDataUri(image: RgbaImage): string {
  return 'data:image/png;base64,' + encodePng(image).toString('base64');
}
