import { formatBytes, table, wantsColor } from './output';

describe('colours', () => {
  it('on a terminal only, never with NO_COLOR, and on with FORCE_COLOR', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({}, {})).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
    // An empty NO_COLOR does not count (no-color.org).
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });
});

describe('table', () => {
  it('pads columns to their widest cell, colour codes not counted, no trailing spaces', () => {
    expect(table([['case', 'verdict'], ['\u001b[32m1\u001b[39m', 'accepted'], ['10', 'wrong_answer']])).toBe('case  verdict\n\u001b[32m1\u001b[39m     accepted\n10    wrong_answer\n');
  });

  it('formats memory in MB', () => {
    expect(formatBytes(46985216)).toBe('44.8 MB');
  });
});
