/**
 * A real, decodable baseline JPEG (8×8 grey, JFIF, 160 bytes), hand-assembled: quantisation
 * table of ones, one-symbol Huffman tables, a single block whose DC makes every pixel 192.
 */
const BASE = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/' +
    'wAALCAAIAAgBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAACv/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AQA//2Q==',
  'base64',
);

/**
 * The photo of one person: the base image with a COM (0xFFFE) segment naming the person right
 * after SOI, so every person's bytes differ and a test can tell whose photo it got.
 */
export function photoFor(userId: string): Buffer {
  const text = Buffer.from(`idsync sandbox photo of ${userId}`, 'utf8');
  const com = Buffer.alloc(4 + text.length);
  com.writeUInt16BE(0xfffe, 0);
  // The segment length counts its own two length bytes.
  com.writeUInt16BE(text.length + 2, 2);
  text.copy(com, 4);
  return Buffer.concat([BASE.subarray(0, 2), com, BASE.subarray(2)]);
}
