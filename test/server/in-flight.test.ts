import t from 'tap';
import { InFlight } from '../../src/server/in-flight.js';

t.test('in-flight list: add, delete in any order, snapshot, size', async (t) => {
  const list = new InFlight<{ id: number; inFlightSlot: number }>();
  const e = Array.from({ length: 5 }, (_, id) => ({ id, inFlightSlot: -1 }));
  for (const x of e) list.add(x);
  list.add(e[0]!); // twice: listed once
  t.equal(list.size, 5);
  list.delete(e[1]!); // the last moves into the hole
  list.delete(e[4]!);
  t.equal(list.size, 3);
  t.same(list.snapshot().map((x) => x.id).sort(), [0, 2, 3]);
  for (const x of list.snapshot()) t.equal(list.snapshot()[x.inFlightSlot], x, `entry ${x.id} knows its slot`);
  t.equal(e[1]!.inFlightSlot, -1, 'a removed entry is marked out');
  list.delete(e[1]!); // twice: no effect
  list.delete({ id: 9, inFlightSlot: 0 }); // a stranger claiming a slot: no effect
  t.equal(list.size, 3);
  const snap = list.snapshot();
  for (const x of snap) list.delete(x); // removing while walking a snapshot
  t.equal(list.size, 0);
  list.add(e[2]!);
  t.same(list.snapshot(), [e[2]], 'reusable');
});
