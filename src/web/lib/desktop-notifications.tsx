/**
 * Desktop notifications of new mail (issue 18, point 1: optional). Off until the agent turns them
 * on in the Inbox, which asks the browser's permission; the choice is kept in this browser
 * (`localStorage`), as the browser's permission is. Each message stored in one of the agent's
 * accounts (the live stream's `message` events are scoped to them) shows the conversation's
 * contact and subject; clicking it opens the conversation. Nothing shows for the conversation the
 * agent is looking at, in a visible tab.
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { getInteraction } from '../api/interactions.js';
import { useLiveEvents } from './live.js';
import { navigate } from './router.js';

const PREFERENCE = 'postern.desktopNotifications';

/** Whether this browser can show them at all. */
function supported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

function enabled(): boolean {
  return supported() && Notification.permission === 'granted' && localStorage.getItem(PREFERENCE) === 'on';
}

/** Shows a notification for each new message while they are on (mounted once, in the shell). */
export function DesktopNotifications(): null {
  useLiveEvents((event) => {
    if (event.kind !== 'message' || event.interactionId === null || !enabled()) return;
    const path = `/inbox/${event.accountId}/${event.interactionId}`;
    if (document.visibilityState === 'visible' && window.location.pathname.endsWith(path)) return;
    void getInteraction(event.interactionId)
      .then((conversation) => {
        const who = conversation.contact.name ?? conversation.contact.address ?? 'Unknown sender';
        const notification = new Notification(`New mail from ${who}`, {
          body: conversation.subject === '' ? '(no subject)' : conversation.subject,
          // One per conversation: a second message replaces the first's notification.
          tag: `postern-conversation-${event.interactionId}`,
        });
        notification.onclick = () => {
          window.focus();
          navigate(path);
          notification.close();
        };
      })
      .catch(() => undefined);
  });
  return null;
}

/** The Inbox's switch: turns them on (asking the browser) or off. */
export function DesktopNotificationsSwitch(): JSX.Element | null {
  const [on, setOn] = useState(enabled);
  const [blocked, setBlocked] = useState(supported() && Notification.permission === 'denied');
  if (!supported()) return null;
  const toggle = async (): Promise<void> => {
    if (on) {
      localStorage.setItem(PREFERENCE, 'off');
      setOn(false);
      return;
    }
    const permission = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
    setBlocked(permission === 'denied');
    if (permission !== 'granted') return;
    localStorage.setItem(PREFERENCE, 'on');
    setOn(true);
  };
  return (
    <div class="notifications-switch">
      <button type="button" class="button button-small" aria-pressed={on} onClick={() => void toggle()}>
        Desktop notifications: {on ? 'on' : 'off'}
      </button>
      {blocked && !on ? (
        <span class="muted" role="status">
          This browser blocks notifications from Postern: allow them in the site's settings first.
        </span>
      ) : null}
    </div>
  );
}
