/**
 * Snooze: an open conversation leaves the Open and Mine lists until a time — later today, tomorrow
 * morning, next Monday or a time picked — and comes back by itself (or at the customer's next
 * message). Times are the browser's local times, sent to the API as instants.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { snoozeInteraction } from '../../api/interactions.js';
import type { Interaction } from '../../api/schemas.js';
import { Dialog } from '../../components/dialog.js';
import { TextField } from '../../components/fields.js';
import { MenuButton } from '../../components/menu-button.js';
import { formatDateTime } from '../../lib/format.js';

/** Whether the conversation is snoozed now (a past time means the wake-up is due). */
export function isSnoozed(conversation: Pick<Interaction, 'snoozedUntil'>, now = Date.now()): boolean {
  return conversation.snoozedUntil !== null && Date.parse(conversation.snoozedUntil) > now;
}

/** The preset times, from `now` in the browser's time zone. */
export function snoozePresets(now: Date): Array<{ label: string; until: Date }> {
  const at = (days: number, hour: number): Date =>
    new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, hour, 0, 0, 0);
  // Sunday 1 day, Monday 7, Tuesday 6, … Saturday 2.
  const daysToMonday = (8 - now.getDay()) % 7 || 7;
  return [
    { label: 'In 3 hours', until: new Date(now.getTime() + 3 * 3_600_000) },
    { label: 'Tomorrow at 8:00', until: at(1, 8) },
    { label: 'Next Monday at 8:00', until: at(daysToMonday, 8) },
  ];
}

export function SnoozeControl({
  conversation,
  busy,
  act,
}: {
  conversation: Interaction;
  busy: boolean;
  /** Runs the action, then reloads the conversation and the list. */
  act: (run: () => Promise<unknown>) => void;
}): JSX.Element | null {
  const [picking, setPicking] = useState(false);
  const [picked, setPicked] = useState('');
  const id = conversation.id;
  if (isSnoozed(conversation)) {
    return (
      <span class="snoozed">
        <span class="muted" data-testid="snoozed-until">
          Snoozed until {formatDateTime(conversation.snoozedUntil)}
        </span>
        <button
          type="button"
          class="button button-small"
          disabled={busy}
          onClick={() => act(() => snoozeInteraction(id, null))}
        >
          Unsnooze
        </button>
      </span>
    );
  }
  if (conversation.status !== 'open') return null;
  const pickedTime = picked === '' ? undefined : new Date(picked);
  return (
    <>
      <MenuButton
        small
        label="Snooze"
        items={[
          ...snoozePresets(new Date()).map((preset) => ({
            label: preset.label,
            onSelect: () => act(() => snoozeInteraction(id, preset.until)),
          })),
          { label: 'Pick a time…', onSelect: () => setPicking(true) },
        ]}
      />
      <Dialog title="Snooze until" open={picking} onClose={() => setPicking(false)}>
        <form
          class="form"
          onSubmit={(event) => {
            event.preventDefault();
            if (pickedTime === undefined || Number.isNaN(pickedTime.getTime())) return;
            setPicking(false);
            act(() => snoozeInteraction(id, pickedTime));
          }}
        >
          <TextField
            label="Back in the Open list at"
            type="datetime-local"
            value={picked}
            onValue={setPicked}
            required
            help="Your local time. The conversation also comes back when the customer writes."
          />
          <div class="form-actions">
            <button type="submit" class="button button-primary" disabled={busy}>
              Snooze
            </button>
            <button type="button" class="button" onClick={() => setPicking(false)}>
              Cancel
            </button>
          </div>
        </form>
      </Dialog>
    </>
  );
}
