/**
 * The live events hub, driven by hand with `runOnce()` (no loop, no socket), once per engine:
 * which state changes become `job` events (new jobs, the newest jobs, jobs a client was shown)
 * and that every pass sends a snapshot.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import { before, describe, it } from 'node:test';
import { EventHub } from '../../src/http/events.js';
import { ThroughputSampler } from '../../src/http/throughput.js';
import { drain, type World } from '../exactly-once/engines.js';
import { ENGINES, registerTasks } from './harness.js';

/** A stand-in for a client's response: keeps what the hub writes, as parsed events. */
function fakeClient() {
  const emitter = new EventEmitter();
  const events: { event: string; data: any }[] = [];
  const res = Object.assign(emitter, {
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    write(chunk: string) {
      const event = /^event: (.*)$/m.exec(chunk)![1]!;
      events.push({ event, data: JSON.parse(/^data: (.*)$/m.exec(chunk)![1]!) });
      return true;
    },
    end() {
      res.writableEnded = true;
      emitter.emit('close');
    },
    destroy() {
      res.destroyed = true;
      emitter.emit('close');
    },
  });
  const jobs = () => events.filter((e) => e.event === 'job').map((e) => [e.data.task, e.data.state]);
  return { res: res as unknown as ServerResponse, events, jobs, take: () => events.splice(0) };
}

function hub(w: World, options: ConstructorParameters<typeof EventHub>[1] = {}): EventHub {
  const store = () => w.app.store;
  const now = () => w.app.now();
  return new EventHub({ store, now, throughput: new ThroughputSampler(store, now) }, options);
}

for (const engine of ENGINES) {
  describe(`live events hub on ${engine.name}`, () => {
    before(() => engine.ready());

    it('a new client gets a snapshot; jobs that existed when it joined are not news, new jobs and state changes are', async () => {
      const w = engine.world();
      registerTasks(w.app);
      try {
        await w.app.send('add', [1, 1]);
        const h = hub(w);
        const c = fakeClient();
        await h.add(c.res);
        assert.deepEqual(c.take().map((e) => e.event), ['snapshot']);

        await h.runOnce();
        assert.deepEqual(c.take().map((e) => e.event), ['snapshot'], 'nothing changed');

        w.clock.now += 1000;
        const boom = await w.app.send('boom', []);
        await h.runOnce();
        const pass = c.take();
        assert.deepEqual(pass.map((e) => e.event), ['job', 'snapshot'], 'job events come before the snapshot of the same pass');
        assert.deepEqual(pass[0]!.data, { id: boom.id, task: 'boom', queue: 'default', state: 'PENDING', at: w.clock.now });

        await drain(w, w.worker({ queues: ['default', 'math'] }));
        await h.runOnce();
        assert.deepEqual(c.jobs().sort(), [['add', 'SUCCESS'], ['boom', 'FAILURE']]);
        const snapshot = c.events.at(-1)!.data;
        assert.deepEqual(snapshot.queues.map((q: { name: string; counts: { SUCCESS: number; FAILURE: number } }) => [q.name, q.counts.SUCCESS, q.counts.FAILURE]), [['default', 0, 1], ['math', 1, 0]]);
        await h.stop();
        assert.equal(h.clients, 0);
      } finally {
        await w.close();
      }
    });

    it('beyond the newest jobs, only jobs a client was shown (watch) are followed', async () => {
      const w = engine.world();
      registerTasks(w.app);
      try {
        const shown = await w.app.send('add', [1, 1]);
        w.clock.now += 10;
        const unseen = await w.app.send('add', [2, 2]);
        w.clock.now += 10;
        await w.app.send('add', [3, 3], { countdown: '1h' }); // the newest: stays PENDING
        const h = hub(w, { recentJobs: 1 });
        const c = fakeClient();
        await h.add(c.res);
        h.watch([(await w.app.store.jobGet(shown.id))!]);
        c.take();

        await drain(w, w.worker({ queues: ['math'] }), 3).catch(() => {}); // the scheduled one stays open
        await h.runOnce();
        const ids = c.events.filter((e) => e.event === 'job').map((e) => e.data.id);
        assert.ok(ids.includes(shown.id), 'the watched job');
        assert.ok(!ids.includes(unseen.id), 'an unwatched job outside the newest is not followed');
        await h.stop();
      } finally {
        await w.close();
      }
    });

    it('a stalled client is dropped instead of buffering without bound', async () => {
      const w = engine.world();
      try {
        const h = hub(w);
        const c = fakeClient();
        await h.add(c.res);
        (c.res as unknown as { writableLength: number }).writableLength = 2 << 20;
        await h.runOnce();
        assert.equal((c.res as unknown as { destroyed: boolean }).destroyed, true);
        assert.equal(h.clients, 0);
        await h.stop();
      } finally {
        await w.close();
      }
    });
  });
}
