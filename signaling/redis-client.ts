/** The Redis client of a fleet: how it connects, retries and fails fast while Redis is away. */
import { createClient, type RedisClientType } from 'redis';
import type { ServerLogger } from './options-serving.js';

/** How long one store command may take before the request fails with `Unavailable`. */
export const COMMAND_TIMEOUT_MS = 3000;
/** Most commands queued by the adapter's stream readers while Redis is away. */
const QUEUE_MAX_LENGTH = 10_000;

/** A Redis client as the store and the socket.io adapter use it. */
export type RedisClient = RedisClientType;

/**
 * Creates and starts connecting a client (it keeps retrying; `isReady` says when it can be used).
 * Commands fail at once while Redis is away instead of queueing, so requests get `Unavailable` quickly
 * and memory stays bounded; the copies the socket.io adapter makes for its blocking stream reads do
 * queue, because the adapter re-issues a failed read at once and would spin otherwise.
 */
export function connectRedis(url: string, logger: ServerLogger): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandsQueueMaxLength: QUEUE_MAX_LENGTH,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  }) as RedisClient;
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (overrides?: object) => duplicate({ ...overrides, disableOfflineQueue: false });
  let up = false;
  let toldDown = false;
  // The URL may hold a password: it is never logged. Once per outage, not once per retry.
  client.on('error', (err: Error) => {
    if (up) logger.warn({ err: { message: err.message } }, 'redis connection error');
    else if (!toldDown) logger.warn({ err: { message: err.message } }, 'cannot reach redis; retrying');
    up = false;
    toldDown = true;
  });
  client.on('ready', () => {
    up = true;
    toldDown = false;
    logger.info({}, 'redis ready');
  });
  client.connect().catch((err: Error) => logger.error({ err: { message: err.message } }, 'redis connect failed'));
  return client;
}
