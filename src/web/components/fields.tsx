/**
 * Labelled form controls: the label, the help text and the API's problem with the field are all
 * tied to the control (aria-describedby, aria-invalid), so screen readers announce them.
 */
import type { ComponentChildren, InputAriaRoles, JSX } from 'preact';
import { useId } from 'preact/hooks';

interface Common {
  label: string;
  help?: ComponentChildren;
  problem?: string | undefined;
  /** A doubt about the value that does not stop saving (shown until the value changes). */
  warning?: string | undefined;
  required?: boolean;
}

function describedBy(id: string, help: unknown, problem: string | undefined, warning?: string): string | undefined {
  const ids = [
    help === undefined ? null : `${id}-help`,
    warning === undefined ? null : `${id}-warning`,
    problem === undefined ? null : `${id}-problem`,
  ].filter((x) => x !== null);
  return ids.length === 0 ? undefined : ids.join(' ');
}

function Frame({
  id,
  label,
  help,
  problem,
  warning,
  required,
  children,
}: Common & { id: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class={problem === undefined ? 'field' : 'field field-invalid'}>
      <label for={id}>
        {label}
        {required === true ? (
          <span class="required" aria-hidden="true">
            {' '}
            *
          </span>
        ) : null}
      </label>
      {children}
      {help === undefined ? null : (
        <div id={`${id}-help`} class="field-help">
          {help}
        </div>
      )}
      {warning === undefined ? null : (
        <p id={`${id}-warning`} class="field-warning" role="status">
          {warning}
        </p>
      )}
      {problem === undefined ? null : (
        <p id={`${id}-problem`} class="field-problem">
          {problem}
        </p>
      )}
    </div>
  );
}

type TextType = 'text' | 'password' | 'email' | 'date' | 'datetime-local' | 'url' | 'search';

/** The `type` attribute in the shape Preact's ARIA-aware input types want. */
function typeAttribute(type: TextType): InputAriaRoles {
  switch (type) {
    case 'password':
      return { type: 'password' };
    case 'email':
      return { type: 'email' };
    case 'date':
      return { type: 'date' };
    case 'datetime-local':
      return { type: 'datetime-local' };
    case 'url':
      return { type: 'url' };
    case 'search':
      return { type: 'search' };
    case 'text':
      return { type: 'text' };
  }
}

export interface TextFieldProps extends Common {
  value: string;
  onValue: (value: string) => void;
  type?: TextType;
  autocomplete?: string;
  placeholder?: string;
  spellcheck?: boolean;
  readOnly?: boolean;
  /** The API's limit: the browser stops typing there. */
  maxLength?: number;
}

export function TextField(props: TextFieldProps): JSX.Element {
  const id = useId();
  return (
    <Frame id={id} {...props}>
      <input
        id={id}
        {...typeAttribute(props.type ?? 'text')}
        value={props.value}
        onInput={(event) => props.onValue(event.currentTarget.value)}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        spellcheck={props.spellcheck ?? false}
        readOnly={props.readOnly}
        maxLength={props.maxLength}
        aria-invalid={props.problem !== undefined}
        aria-describedby={describedBy(id, props.help, props.problem, props.warning)}
      />
    </Frame>
  );
}

export function TextArea(
  props: Common & {
    value: string;
    onValue: (value: string) => void;
    rows?: number;
    placeholder?: string;
    maxLength?: number;
    /** Shown but not editable yet, for instance while the stored text loads. */
    readOnly?: boolean;
  },
): JSX.Element {
  const id = useId();
  return (
    <Frame id={id} {...props}>
      <textarea
        id={id}
        rows={props.rows ?? 3}
        value={props.value}
        placeholder={props.placeholder}
        maxLength={props.maxLength}
        readOnly={props.readOnly}
        onInput={(event) => props.onValue(event.currentTarget.value)}
        required={props.required}
        aria-invalid={props.problem !== undefined}
        aria-describedby={describedBy(id, props.help, props.problem, props.warning)}
      />
    </Frame>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(
  props: Common & { value: string; onValue: (value: string) => void; options: Option[] },
): JSX.Element {
  const id = useId();
  return (
    <Frame id={id} {...props}>
      <select
        id={id}
        value={props.value}
        onChange={(event) => props.onValue(event.currentTarget.value)}
        required={props.required}
        aria-invalid={props.problem !== undefined}
        aria-describedby={describedBy(id, props.help, props.problem)}
      >
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Frame>
  );
}

export function CheckboxField(props: {
  label: string;
  checked: boolean;
  onChecked: (checked: boolean) => void;
  help?: string;
}): JSX.Element {
  const id = useId();
  return (
    <div class="field field-checkbox">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(event) => props.onChecked(event.currentTarget.checked)}
        aria-describedby={props.help === undefined ? undefined : `${id}-help`}
      />
      <label for={id}>{props.label}</label>
      {props.help === undefined ? null : (
        <p id={`${id}-help`} class="field-help">
          {props.help}
        </p>
      )}
    </div>
  );
}

/** The API's problem for each field of a VALIDATION_FAILED error, by field name. */
export function problemsByField(fields: Array<{ field: string; problem: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { field, problem } of fields) out[field.split('.')[0] ?? field] ??= problem;
  return out;
}
