import { EndMarker } from './end-marker';

const nonce = 'a1b2c3d4e5f6';

function feedAll(marker: EndMarker, text: string, sizes: number[]): void {
  const bytes = Buffer.from(text, 'latin1');
  let at = 0;
  for (const size of sizes) {
    marker.feed(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) marker.feed(bytes.subarray(at));
}

describe('EndMarker', () => {
  it('finds the stdout marker and where it starts', () => {
    const m = new EndMarker(nonce, false);
    feedAll(m, `hello\n\0${nonce}\0`, []);
    expect(m.offset).toBe(6);
  });

  it('finds the stderr marker with its exit code', () => {
    const m = new EndMarker(nonce, true);
    feedAll(m, `boom\n\0${nonce}:3\0`, []);
    expect([m.offset, m.code]).toEqual([5, 3]);
  });

  it.each([[[1]], [[3, 1, 1, 1]], [[7, 2, 5]], [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]])('survives chunk boundaries %j', (sizes) => {
    const text = `x`.repeat(5) + `\0${nonce}:17\0`;
    const m = new EndMarker(nonce, true);
    feedAll(m, text, sizes);
    expect([m.offset, m.code]).toEqual([5, 17]);
  });

  it('counts offsets across long output', () => {
    const m = new EndMarker(nonce, false);
    for (let i = 0; i < 100; i += 1) m.feed(Buffer.alloc(1000, 'y'));
    m.feed(Buffer.from(`\0${nonce}\0`, 'latin1'));
    expect(m.offset).toBe(100_000);
  });

  it('is not fooled by another nonce, a NUL alone, or a code that is not a number', () => {
    const m = new EndMarker(nonce, true);
    feedAll(m, `\0deadbeef0000:0\0 \0\0 \0${nonce}:zero\0`, [4, 4]);
    expect(m.found).toBe(false);
  });
});
