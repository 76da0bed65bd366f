import { CorralClient, CorralClientError, type ExecutionRequest, type ExecutionResult, type TestsResult } from '@corral/client';
import { createEditor } from './editor';
import { figures } from './format';
import { runProgram } from './live';
import { decodeShare, encodeShare, type SharedProgram } from './share';
import { createTestsTab } from './tests-tab';

const EXAMPLE = `// Ctrl-Enter (⌘-Enter) runs it in a fresh sandbox.
const input = require('fs').readFileSync(0, 'utf8');
console.log(\`hello from corral, \${input.trim() || 'world'}\`);
`;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const language = $<HTMLSelectElement>('language');
const stdin = $<HTMLTextAreaElement>('stdin');
const args = $<HTMLTextAreaElement>('args');
const timeout = $<HTMLInputElement>('timeout');
const memory = $<HTMLInputElement>('memory');
const key = $<HTMLInputElement>('key');
const status = $<HTMLSpanElement>('status');
const figuresLine = $<HTMLSpanElement>('figures');
const stdout = $<HTMLPreElement>('stdout');
const stderr = $<HTMLPreElement>('stderr');
const runButton = $<HTMLButtonElement>('run');
const tabs = { run: $<HTMLButtonElement>('tab-run'), tests: $<HTMLButtonElement>('tab-tests') };
const panels = { run: $<HTMLDivElement>('panel-run'), tests: $<HTMLDivElement>('panel-tests') };

// With API keys on, the router says so in the page, and the key is kept for this tab only.
if (document.querySelector('meta[name="corral-api-keys"]')?.getAttribute('content') === 'on') {
  $('key-field').hidden = false;
  key.value = sessionStorage.getItem('corral-api-key') ?? '';
  key.addEventListener('change', () => sessionStorage.setItem('corral-api-key', key.value));
}

let active: 'run' | 'tests' = 'run';
let running: AbortController | null = null;
const editor = createEditor($('editor'), EXAMPLE, () => void run());
const testsTab = createTestsTab($('cases'), $<HTMLButtonElement>('add-case'), $<HTMLTableElement>('verdicts'));

function select(tab: 'run' | 'tests'): void {
  active = tab;
  for (const name of ['run', 'tests'] as const) {
    tabs[name].setAttribute('aria-selected', String(name === tab));
    panels[name].hidden = name !== tab;
  }
  runButton.textContent = tab === 'tests' ? 'Run tests' : 'Run';
}
tabs.run.addEventListener('click', () => select('run'));
tabs.tests.addEventListener('click', () => select('tests'));

function shared(): SharedProgram {
  const program: SharedProgram = { language: language.value === 'typescript' ? 'typescript' : 'javascript', code: editor.code() };
  if (stdin.value) program.stdin = stdin.value;
  const argList = args.value.split('\n').filter((a) => a.length > 0);
  if (argList.length) program.args = argList;
  const cases = testsTab.cases();
  if (cases.length) program.tests = cases;
  return program;
}

function load(program: SharedProgram): void {
  language.value = program.language;
  editor.setLanguage(program.language);
  editor.setCode(program.code);
  stdin.value = program.stdin ?? '';
  args.value = (program.args ?? []).join('\n');
  testsTab.setCases(program.tests ?? []);
  if (program.tests?.length) select('tests');
}

function request(): ExecutionRequest {
  const program = shared();
  const limits: Partial<ExecutionRequest> = {};
  if (Number(timeout.value) > 0) limits.timeoutMs = Number(timeout.value);
  if (Number(memory.value) > 0) limits.memoryMb = Number(memory.value);
  return { language: program.language, code: program.code, stdin: program.stdin ?? '', args: program.args ?? [], ...limits };
}

function show(state: string, kind: 'ok' | 'bad' | '', text = ''): void {
  status.textContent = state;
  status.className = `status ${kind}`;
  figuresLine.textContent = text;
}

function showResult(result: ExecutionResult): void {
  const how = result.exitCode !== null ? `exit ${result.exitCode}` : (result.signal ?? '');
  show(`${result.status}${how ? ` (${how})` : ''}`, result.status === 'ok' ? 'ok' : 'bad', figures(result).join(' · ') + (result.truncated ? ' · output truncated' : ''));
}

function showTests(result: TestsResult): void {
  const { summary } = result;
  show(`${summary.status}: ${summary.accepted}/${summary.total} passed`, summary.status === 'accepted' ? 'ok' : 'bad');
  testsTab.showVerdicts(result);
}

async function run(): Promise<void> {
  running?.abort(new Error('run again'));
  const controller = (running = new AbortController());
  const client = new CorralClient({ baseUrl: location.origin, ...(key.value ? { apiKey: key.value } : {}), retries: 2, maxRetryDelayMs: 5000 });
  stdout.textContent = '';
  stderr.textContent = '';
  testsTab.showVerdicts(null);
  show('running…', '');
  runButton.disabled = true;
  try {
    if (active === 'tests') {
      const tests = testsTab.cases();
      if (tests.length === 0) return show('add a case first', 'bad');
      showTests(await client.executeTests({ ...request(), tests }, { signal: controller.signal }));
    } else {
      showResult(await runProgram(client, request(), { stdout, stderr }, controller.signal));
    }
  } catch (err) {
    if (controller.signal.aborted) return;
    const e = err instanceof CorralClientError ? err : new CorralClientError('network_error', String(err));
    show(e.code, 'bad', e.message);
  } finally {
    if (running === controller) runButton.disabled = false;
  }
}

runButton.addEventListener('click', () => void run());
language.addEventListener('change', () => editor.setLanguage(language.value === 'typescript' ? 'typescript' : 'javascript'));
$('share').addEventListener('click', () => {
  const url = `${location.origin}${location.pathname}${encodeShare(shared())}`;
  history.replaceState(null, '', url);
  const field = $<HTMLInputElement>('share-url');
  field.value = url;
  $('share-link').hidden = false;
  field.select();
  void navigator.clipboard?.writeText(url).catch(() => undefined);
});

function fromHash(): void {
  const program = decodeShare(location.hash);
  if (program) load(program);
}
window.addEventListener('hashchange', fromHash);
fromHash();
document.body.dataset['ready'] = 'true';

// Ctrl/Cmd-Enter runs from anywhere on the page (the editor has its own binding).
document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && !editor.view.hasFocus) {
    event.preventDefault();
    void run();
  }
});
