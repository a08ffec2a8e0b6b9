// Typed message maps, as an app uses them against the published declarations (compiled, never run).
// Each @ts-expect-error must stay an error: a wrong type or payload has to fail to compile.
import { Room, RequestError } from 'roommesh';
import type { MessagingClient, ReceivedMessage, RequestReply } from 'roommesh';

type Msgs = {
  chat: { text: string };
  cursor: { x: number; y: number };
  sum: { a: number; b: number };
};
type Replies = { sum: { sum: number } };

export async function typed(): Promise<void> {
  const room = await Room.connect<Msgs, Replies>({ url: 'http://127.0.0.1:8080', room: 'r', name: 'alice' });
  const m: MessagingClient<Msgs, Replies> = room.messaging;
  const bob = 'bob-id';

  // Right type, right payload: compiles.
  await m.sendMessage({ to: bob, type: 'chat', message: { text: 'hi' } });
  m.sendMessageNowait({ to: bob, type: 'cursor', message: { x: 1, y: 2 } });
  await m.broadcastMessage({ type: 'chat', message: { text: 'all' } });

  // @ts-expect-error A type the map does not declare.
  await m.sendMessage({ to: bob, type: 'chta', message: { text: 'hi' } });
  // @ts-expect-error The payload of another type.
  await m.sendMessage({ to: bob, type: 'chat', message: { x: 1, y: 2 } });
  // @ts-expect-error A field of the wrong type.
  m.sendMessageNowait({ to: bob, type: 'cursor', message: { x: '1', y: 2 } });
  // @ts-expect-error A missing field.
  await m.broadcastMessage({ type: 'cursor', message: { x: 1 } });

  // A listener narrows the message by its type.
  m.on('message', (msg) => {
    if (msg.type === 'chat') {
      const text: string = msg.message.text;
      void text;
      // @ts-expect-error A chat message has no x.
      void msg.message.x;
    } else if (msg.type === 'cursor') {
      const x: number = msg.message.x;
      void x;
    }
  });
  m.on('attachment_progress', (p) => {
    if (p.type === 'chat') void p.message.text;
  });

  // Requests: the request's payload by its type, the reply's by the reply map.
  const reply: RequestReply<{ sum: number }> = await m.request({ to: bob, type: 'sum', message: { a: 1, b: 2 } });
  const total: number = reply.message.sum;
  void total;
  // @ts-expect-error The request payload of 'sum' has no text.
  await m.request({ to: bob, type: 'sum', message: { text: 'x' } });
  // @ts-expect-error A type the map does not declare.
  await m.request({ to: bob, type: 'nope', message: {} });
  const chatReply = await m.request({ to: bob, type: 'chat', message: { text: 'hi' }, timeoutMs: 500 });
  // A type the reply map does not name replies with any JSON object.
  void chatReply.message['anything'];

  const off = m.handle('sum', (req) => ({ message: { sum: req.message.a + req.message.b } }));
  off();
  m.handle('sum', async (req) => {
    await Promise.resolve();
    return { message: { sum: req.message.a }, attachment: new Uint8Array(1) };
  });
  // @ts-expect-error The reply of 'sum' must be { sum: number }.
  m.handle('sum', () => ({ message: { total: 3 } }));
  // @ts-expect-error A handler for a type the map does not declare.
  m.handle('nope', () => ({ message: {} }));
  // @ts-expect-error A request's message is read by its declared shape.
  m.handle('chat', (req) => ({ message: { n: req.message.a } }));

  try {
    await m.request({ to: bob, type: 'sum', message: { a: 1, b: 2 } });
  } catch (err) {
    if (err instanceof RequestError && err.reason === 'HandlerFailed') void err.handlerMessage?.length;
  }
}

export async function untyped(): Promise<void> {
  // Without maps, as before: any type, any JSON object.
  const room = await Room.connect({ url: 'http://127.0.0.1:8080', room: 'r', name: 'bob' });
  await room.messaging.sendMessage({ to: 'x', type: 'whatever', message: { any: [1, 'two', null] } });
  room.messaging.on('message', (msg: ReceivedMessage) => {
    const t: string = msg.type;
    void t;
    void msg.message['anything'];
  });
  const r = await room.messaging.request({ to: 'x', type: 'q', message: {} });
  void r.message['k'];
  room.messaging.handle('q', (req) => ({ message: { echo: req.message } }));
  // @ts-expect-error Still JSON: a function is not a JSON value.
  await room.messaging.sendMessage({ to: 'x', type: 't', message: { f: () => 1 } });
}
