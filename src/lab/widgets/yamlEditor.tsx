/**
 * The pattern file as text: JupyterLab's own CodeMirror editor with YAML
 * highlighting (the Lab's editor services, so it follows the theme and the
 * user's editor settings), or a plain text area where no editor services
 * are given (a Lab without them).
 */
import { CodeEditor, CodeEditorWrapper } from '@jupyterlab/codeeditor';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

/** The MIME type the Lab's language registry knows YAML by. */
export const YAML_MIME = 'text/x-yaml';

export interface IYamlEditorProps {
  /** The element id (the field's label points at it). */
  id: string;
  value: string;
  onChange: (value: string) => void;
  /** The Lab's inline editor factory (`IEditorServices.factoryService.newInlineEditor`). */
  factory?: CodeEditor.Factory;
}

export function YamlEditor(props: IYamlEditorProps): JSX.Element {
  return props.factory ? <CodeMirrorYaml {...props} factory={props.factory} /> : <PlainYaml {...props} />;
}

function PlainYaml(props: IYamlEditorProps): JSX.Element {
  return (
    <textarea
      id={props.id}
      data-testid="meow-pattern-yaml"
      className="jp-mod-styled jp-meow-yaml"
      rows={14}
      spellCheck={false}
      value={props.value}
      onChange={e => props.onChange(e.target.value)}
    />
  );
}

/** A CodeMirror editor hosted in a Lumino widget, mounted once; the text flows both ways. */
function CodeMirrorYaml(props: IYamlEditorProps & { factory: CodeEditor.Factory }): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const model = React.useRef<CodeEditor.Model | null>(null);
  // The latest callback, so the editor's listener never calls a stale one.
  const onChange = React.useRef(props.onChange);
  onChange.current = props.onChange;

  // Layout effect: the editor is detached before React removes its host
  // from the page (Lumino refuses to detach a widget that is already gone).
  React.useLayoutEffect(() => {
    const m = new CodeEditor.Model({ mimeType: YAML_MIME });
    m.sharedModel.setSource(props.value);
    model.current = m;
    const wrapper = new CodeEditorWrapper({
      factory: props.factory,
      model: m,
      editorOptions: { config: { lineNumbers: true, lineWrap: true } }
    });
    wrapper.addClass('jp-meow-yamlCodeMirror');
    Widget.attach(wrapper, host.current!);
    const changed = () => onChange.current(m.sharedModel.getSource());
    m.sharedModel.changed.connect(changed);
    return () => {
      m.sharedModel.changed.disconnect(changed);
      model.current = null;
      wrapper.dispose();
      m.dispose();
    };
  }, [props.factory]);

  // Text set from outside (e.g. the form turned into YAML) replaces the editor's.
  React.useEffect(() => {
    const m = model.current;
    if (m && m.sharedModel.getSource() !== props.value) {
      m.sharedModel.setSource(props.value);
    }
  }, [props.value]);

  return <div id={props.id} ref={host} className="jp-meow-yamlEditor" data-testid="meow-pattern-yaml" />;
}
