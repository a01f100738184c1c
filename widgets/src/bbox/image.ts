/**
 * The <img> under the canvases. The image arrives as bytes in a binary buffer (shown through a
 * blob: URL, revoked when replaced or disposed) or as an http(s) URL the browser loads itself.
 * It keeps its natural size in CSS pixels; the viewport's CSS transform scales and places it,
 * so zoom and pan cost the compositor a transform, not a redraw of millions of pixels.
 */
import type { Size, Viewport } from "./geometry";

export class ImageLayer {
  readonly element: HTMLImageElement;
  private bytes: DataView<ArrayBuffer> | null = null;
  private objectUrl: string | null = null;

  constructor(element: HTMLImageElement) {
    this.element = element;
  }

  /** Shows these bytes (when not empty) or else `url`; false when that is already shown. */
  show(bytes: DataView<ArrayBuffer> | null, mime: string, url: string): boolean {
    let source = url;
    if (bytes !== null && bytes.byteLength > 0) {
      if (bytes === this.bytes && this.objectUrl !== null) return false;
      this.revoke();
      this.objectUrl = URL.createObjectURL(new Blob([bytes], mime ? { type: mime } : {}));
      source = this.objectUrl;
    } else {
      this.revoke();
    }
    this.bytes = bytes;
    if (this.element.getAttribute("src") === source) return false;
    this.element.src = source;
    return true;
  }

  /** The natural size, as CSS size; null leaves it to the image (a URL image still loading). */
  setSize(size: Size | null): void {
    this.element.style.width = size === null ? "" : `${size.width}px`;
    this.element.style.height = size === null ? "" : `${size.height}px`;
  }

  /** Places the image; smoothing is off once image pixels are big enough to count. */
  place(viewport: Viewport): void {
    const style = this.element.style;
    style.transform = `translate(${viewport.x}px, ${viewport.y}px) scale(${viewport.scale})`;
    style.imageRendering = viewport.scale >= 4 ? "pixelated" : "auto";
  }

  dispose(): void {
    this.revoke();
    this.element.removeAttribute("src");
  }

  private revoke(): void {
    if (this.objectUrl !== null) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }
}
