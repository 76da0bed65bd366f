import { javascript } from '@codemirror/lang-javascript';
import { Compartment, Prec } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { basicSetup, EditorView } from 'codemirror';

/** The code editor: CodeMirror 6 with JavaScript or TypeScript highlighting; Ctrl/Cmd-Enter calls `onRun`. */
export interface CodeEditor {
  view: EditorView;
  code(): string;
  setCode(code: string): void;
  setLanguage(language: 'javascript' | 'typescript'): void;
}

export function createEditor(parent: HTMLElement, code: string, onRun: () => void): CodeEditor {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    doc: code,
    extensions: [
      // Above basicSetup's own Mod-Enter (insert a blank line): here it runs the program.
      Prec.highest(keymap.of([{ key: 'Mod-Enter', run: () => (onRun(), true) }])),
      basicSetup,
      language.of(javascript()),
      EditorView.contentAttributes.of({ 'aria-label': 'Code' }),
    ],
  });
  return {
    view,
    code: () => view.state.doc.toString(),
    setCode: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    setLanguage: (name) => view.dispatch({ effects: language.reconfigure(javascript({ typescript: name === 'typescript' })) }),
  };
}
