// gzip compresses a chunk's text where the browser can (CompressionStream),
// for the recorder's uploads and the heatmap backgrounds.

/** Compresses text with gzip, or answers null where the browser cannot. */
export function gzip(text: string): Promise<ArrayBuffer> | null {
  if (typeof CompressionStream === 'undefined' || typeof Blob === 'undefined' || !Blob.prototype.stream) return null;
  try {
    return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
  } catch (e) {
    return null;
  }
}
