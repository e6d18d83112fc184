import type { JSX } from 'preact';
import type { Badge as BadgeData } from '../lib/provider-status.js';

export function Badge({ badge }: { badge: BadgeData }): JSX.Element {
  return <span class={`badge badge-${badge.tone}`}>{badge.text}</span>;
}

export function Badges({ badges }: { badges: BadgeData[] }): JSX.Element {
  return (
    <span class="badges">
      {badges.map((badge) => (
        <Badge key={badge.text} badge={badge} />
      ))}
    </span>
  );
}
