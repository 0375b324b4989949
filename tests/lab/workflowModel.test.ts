/**
 * WorkflowModel refreshes once per change: the service sends one
 * `definitions` event per applied change, its own writes included, and a
 * write through the model runs that event's refresh (at once) instead of a
 * second one of its own. Without a websocket, a write refreshes by itself.
 */
import { MeowClient } from '../../src/lab/client';
import { WorkflowModel } from '../../src/lab/models';
import { FakeWebSocket, fakeSettings, IRecordedRequest } from './fakes';
import { waitFor } from './waitFor';

interface IFake {
  model: WorkflowModel;
  client: MeowClient;
  /** GET /patterns requests so far (one per refresh). */
  refreshes(): number;
}

/**
 * A service with one pattern file per saved name; `onWrite` runs while a
 * PUT or DELETE is answered (the real service sends its event then).
 */
function fakeService(onWrite: (req: IRecordedRequest) => void, connect = true): IFake {
  const names = new Set<string>();
  const { serverSettings, requests } = fakeSettings(req => {
    const path = new URL(req.url).pathname;
    const name = /\/patterns\/([^/]+)$/.exec(path)?.[1];
    if (name && req.method === 'PUT') {
      names.add(name);
      onWrite(req);
      return { body: { name, file: `.meow/patterns/${name}.yaml`, text: req.body.text, active: true } };
    }
    if (name && req.method === 'DELETE') {
      names.delete(name);
      onWrite(req);
      return { status: 204 };
    }
    if (path.endsWith('/patterns')) {
      return {
        body: { patterns: [...names].map(n => ({ name: n, file: `.meow/patterns/${n}.yaml`, text: '', active: true })) }
      };
    }
    return { body: path.endsWith('/recipes') ? { recipes: [] } : { rules: [] } };
  });
  const client = new MeowClient({ serverSettings });
  const model = new WorkflowModel({ client, debounce: 30 });
  if (connect) {
    client.connect();
    FakeWebSocket.last.open();
  }
  const refreshes = () =>
    requests.filter(r => r.method === 'GET' && new URL(r.url).pathname.endsWith('/patterns')).length;
  return { model, client, refreshes };
}

/** Long enough for a debounced refresh (30 ms) to have run, had one been scheduled. */
const settle = () => new Promise(resolve => setTimeout(resolve, 120));

describe('WorkflowModel writes', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('a save whose event arrives before the answer refreshes once, and shows the pattern when it resolves', async () => {
    const fake = fakeService(() => FakeWebSocket.last.receive({ type: 'definitions' }));
    await fake.model.savePattern('One', 'recipe: r\n');
    expect(fake.model.pattern('One')).toBeDefined();
    await settle();
    expect(fake.refreshes()).toBe(1);
    fake.client.dispose();
  });

  it('a save whose event arrives after the answer waits for it and refreshes once', async () => {
    const fake = fakeService(() => setTimeout(() => FakeWebSocket.last.receive({ type: 'definitions' }), 40));
    let resolved = false;
    const saving = fake.model.savePattern('Two', 'recipe: r\n').then(() => (resolved = true));
    await waitFor(() => fake.refreshes() === 1 || resolved, 'the refresh or the save');
    await saving;
    expect(fake.model.pattern('Two')).toBeDefined();
    await settle();
    expect(fake.refreshes()).toBe(1);
    fake.client.dispose();
  });

  it('a delete refreshes once too', async () => {
    const fake = fakeService(() => FakeWebSocket.last.receive({ type: 'definitions' }));
    await fake.model.savePattern('Three', 'recipe: r\n');
    await fake.model.deletePattern('Three');
    expect(fake.model.pattern('Three')).toBeUndefined();
    await settle();
    expect(fake.refreshes()).toBe(2);
    fake.client.dispose();
  });

  it('without a websocket, a save refreshes by itself, once', async () => {
    const fake = fakeService(() => undefined, false);
    await fake.model.savePattern('Four', 'recipe: r\n');
    expect(fake.model.pattern('Four')).toBeDefined();
    await settle();
    expect(fake.refreshes()).toBe(1);
    fake.client.dispose();
  });

  it('an event from elsewhere still refreshes once', async () => {
    const fake = fakeService(() => undefined);
    FakeWebSocket.last.receive({ type: 'definitions' });
    await waitFor(() => fake.refreshes() === 1, 'the refresh');
    await settle();
    expect(fake.refreshes()).toBe(1);
    fake.client.dispose();
  });
});
