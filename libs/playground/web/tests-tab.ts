import type { TestsResult } from '@corral/client';
import { figures } from './format';

/** The tests tab: cases with their expected output, and a verdict per case once they ran. */
export interface TestsTab {
  cases(): { stdin: string; expected: string }[];
  setCases(cases: { stdin: string; expected: string }[]): void;
  showVerdicts(result: TestsResult | null): void;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export function createTestsTab(list: HTMLElement, add: HTMLButtonElement, table: HTMLTableElement): TestsTab {
  const addCase = (stdin = '', expected = ''): void => {
    const n = list.children.length + 1;
    const input = el('textarea', { className: 'case-stdin', value: stdin, spellcheck: false, rows: 2 });
    const output = el('textarea', { className: 'case-expected', value: expected, spellcheck: false, rows: 2 });
    const remove = el('button', { type: 'button', textContent: 'Remove', title: `Remove case ${n}` });
    const row = el('div', { className: 'case' }, el('label', {}, `Case ${n} stdin`, input), el('label', {}, 'expected output', output), remove);
    remove.addEventListener('click', () => row.remove());
    list.append(row);
  };
  add.addEventListener('click', () => addCase());
  const tab: TestsTab = {
    cases: () =>
      [...list.querySelectorAll('.case')].map((row) => ({
        stdin: (row.querySelector('.case-stdin') as HTMLTextAreaElement).value,
        expected: (row.querySelector('.case-expected') as HTMLTextAreaElement).value,
      })),
    setCases: (cases) => {
      list.replaceChildren();
      for (const c of cases) addCase(c.stdin, c.expected);
    },
    showVerdicts: (result) => {
      const body = table.tBodies[0] as HTMLTableSectionElement;
      body.replaceChildren();
      table.hidden = result === null;
      for (const test of result?.tests ?? []) {
        const cells = 'durationMs' in test ? figures(test) : ['-', '-', '-'];
        const verdict = el('td', { className: `verdict ${test.status === 'accepted' ? 'accepted' : 'failed'}`, textContent: test.status });
        body.append(el('tr', {}, el('td', { textContent: String(test.index + 1) }), verdict, ...cells.map((c) => el('td', { textContent: c }))));
      }
    },
  };
  return tab;
}
