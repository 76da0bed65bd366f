import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programRequest } from './program-files';

describe('the program a command sends', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'corral-program-'));
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'main.js'), 'require("./lib.js")');
    writeFileSync(join(dir, 'lib.js'), 'exports.x = 1');
    writeFileSync(join(dir, 'main.ts'), 'const x: number = 1');
    writeFileSync(join(dir, 'a', 'same.js'), '');
    writeFileSync(join(dir, 'b', 'same.js'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('one file is code; the limits and stdin as given', async () => {
    expect(await programRequest([join(dir, 'main.js')], { timeout: 900, memory: 64, stdin: 'in' })).toEqual({
      language: 'javascript',
      code: 'require("./lib.js")',
      timeoutMs: 900,
      memoryMb: 64,
      stdin: 'in',
    });
  });

  it('TypeScript by the entry extension, or --ts', async () => {
    expect(await programRequest([join(dir, 'main.ts')], {})).toMatchObject({ language: 'typescript' });
    expect(await programRequest([join(dir, 'main.js')], { ts: true })).toMatchObject({ language: 'typescript' });
  });

  it("files under the entry's folder keep their path from it; others go by their base name", async () => {
    const request = await programRequest([join(dir, 'main.js'), join(dir, 'a', 'same.js'), join(tmpdir(), 'elsewhere-never-read.js')], {}).catch((e: Error) => e.message);
    expect(request).toMatch(/cannot read .*elsewhere-never-read\.js/);
    expect(await programRequest([join(dir, 'main.js'), join(dir, 'a', 'same.js'), join(dir, 'b', 'same.js')], {})).toMatchObject({
      entry: 'main.js',
      files: [{ name: 'main.js' }, { name: 'a/same.js' }, { name: 'b/same.js' }],
    });
    expect(await programRequest([join(dir, 'a', 'same.js'), join(dir, 'lib.js')], {})).toMatchObject({ entry: 'same.js', files: [{ name: 'same.js' }, { name: 'lib.js' }] });
  });

  it('several files, the first one the entry', async () => {
    expect(await programRequest([join(dir, 'main.js'), join(dir, 'lib.js')], {})).toEqual({
      language: 'javascript',
      entry: 'main.js',
      files: [
        { name: 'main.js', content: 'require("./lib.js")' },
        { name: 'lib.js', content: 'exports.x = 1' },
      ],
    });
  });

  it('refuses no file, two files of one name and a file that is not there', async () => {
    await expect(programRequest([], {})).rejects.toThrow('no program file given');
    await expect(programRequest([join(dir, 'a', 'same.js'), join(dir, 'b', 'same.js')], {})).rejects.toThrow('two files named same.js');
    await expect(programRequest([join(dir, 'main.js'), join(dir, 'main.js')], {})).rejects.toThrow('two files named main.js');
    await expect(programRequest([join(dir, 'nope.js')], {})).rejects.toThrow(/cannot read .*nope\.js: ENOENT/);
  });
});
