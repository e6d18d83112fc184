/**
 * Which nodes' unfinished outbox submissions another node may send again (the outbox's dead-node
 * sweep): a node stopped cleanly at once; a silent one only after three leases' length. One lease
 * late, a node may be alive but stalled on a loaded machine — taking its submissions over then sent
 * a reply twice (a CI-like run of issue 17's three-node test) — so it is left alone.
 */
import { describe, expect, it } from 'vitest';
import { ClusterService, OUTBOX_TAKEOVER_SILENCE_LEASES } from '../../src/services/cluster/cluster-service.js';
import { forEachEngine } from '../helpers/store.js';

const TTL_MS = 20_000;

forEachEngine((engine, openFresh) => {
  describe(`outbox takeover of other nodes (${engine})`, () => {
    it('takes a stopped node at once, a silent one only after three leases, never a running one or itself', async () => {
      let now = Date.parse('2026-12-04T12:00:00.000Z');
      const db = await openFresh({ clock: () => new Date(now) });
      const node = (id: string): ClusterService =>
        new ClusterService(db, { id, version: 'test', host: 'elsewhere.example', pid: 1 }, { ttlMs: TTL_MS, cap: 0 });
      const self = node('self');
      for (const id of ['self', 'stalled', 'gone', 'stopped']) await node(id).register(['web']);
      await node('stopped').markStopped();
      expect(await self.outboxDeadNodeIds()).toEqual(['stopped']);

      // One lease and a bit of silence: "silent" to the mailbox leases, not yet to the outbox.
      now += TTL_MS + 1_000;
      await self.heartbeat(['web']);
      expect((await self.listNodes()).find((n) => n.id === 'stalled')?.state).toBe('silent');
      expect(await self.outboxDeadNodeIds()).toEqual(['stopped']);

      // The stalled node beats again; the other stays silent for three leases.
      await node('stalled').heartbeat(['web']);
      now += (OUTBOX_TAKEOVER_SILENCE_LEASES - 1) * TTL_MS;
      await self.heartbeat(['web']);
      await node('stalled').heartbeat(['web']);
      expect((await self.outboxDeadNodeIds()).sort()).toEqual(['gone', 'stopped']);
    });
  });
});
