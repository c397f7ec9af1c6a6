// Several relays, one Redis: the cluster half of ClusterHooks (server.ts).
//
// Redis holds only who-has-what, each entry a lease the owner renews:
//   rso:np:<nameplate> = node id   (reserved with SET NX: unique across nodes)
//   rso:node:<node id> = node URL  (how other nodes reach the owner)
//   rso:key            = cluster key (nodes present it to each other on NODE_PATH)
// The node whose client opened a number owns that session; a client that joins on another
// node is piped there (node-link.ts). Frames never pass through Redis, so losing Redis stops
// new pairings (RSO_ERR_RELAY_BUSY) but not running sessions; a dead node's leases lapse and its
// numbers become free again. docs/relay-cluster.md has the whole picture.
import { randomBytes, randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { RsoError } from '../errors.js';
import type { Logger } from './log.js';
import { MAX_NAMEPLATE_DIGITS, MIN_NAMEPLATE_DIGITS } from './nameplates.js';
import type { ClusterHooks, Location } from './server-api.js';

export interface ClusterOptions {
  redisUrl: string;
  log: Logger;
  /** How long an entry outlives its owner's last renewal (default 15 s). */
  leaseMs?: number;
  /** Connect and command timeout (default 2 s). */
  timeoutMs?: number;
}

export interface Cluster extends ClusterHooks {
  readonly nodeId: string;
  /** Publish this node's URL; called once the relay listens. */
  register(nodeUrl: string): Promise<void>;
  close(): Promise<void>;
}

const STORE_DOWN_TEXT = 'The relay cannot reach its cluster store (Redis), so it takes no new sessions until it is back; running sessions go on.';
/** Draws per length before trying a longer nameplate: at half full, 8 misses in a row is 1 in 256. */
const DRAWS_PER_LENGTH = 8;

// Renew our entry if it is ours, recreate it if it vanished (Redis restarted empty), leave it if
// another node took it meanwhile.
const RENEW = `
for i, k in ipairs(KEYS) do
  local v = redis.call('get', k)
  if v == false then redis.call('set', k, ARGV[1], 'px', ARGV[2])
  elseif v == ARGV[1] then redis.call('pexpire', k, ARGV[2]) end
end
return 1`;
const RELEASE = `
for i, k in ipairs(KEYS) do
  if redis.call('get', k) == ARGV[1] then redis.call('del', k) end
end
return 1`;

/** redis://user:pass@host:port/db -> host:port, for logs and messages. */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return u.host || url;
  } catch {
    return 'the given --redis URL';
  }
}

export async function connectCluster(o: ClusterOptions): Promise<Cluster> {
  const leaseMs = o.leaseMs ?? 15_000;
  const timeoutMs = o.timeoutMs ?? 2000;
  const where = redisWhere(o.redisUrl);
  const nodeId = randomBytes(8).toString('hex');
  let nodeUrl: string | null = null;
  let key: Buffer | null = null;
  let held = new Set<string>();
  let lastRenew = 0;
  let renewing = false;

  const redis = new Redis(o.redisUrl, {
    // Fail at once while Redis is away instead of queueing: a customer waits for no lost cause.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    lazyConnect: true,
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  });
  let up = false;
  redis.on('ready', () => {
    if (!up) o.log('cluster-store-up', { redis: where, node: nodeId });
    up = true;
    void renew();
  });
  redis.on('close', () => {
    if (up) o.log('cluster-store-lost', { redis: where, node: nodeId });
    up = false;
  });
  redis.on('error', () => {
    // Every outage also emits close; the state change is logged there, not once per retry.
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new RsoError('RSO_ERR_CONFIG', `Could not reach Redis at ${where}; check --redis.`, `redis connect: ${err instanceof Error ? err.message : String(err)}`);
  }

  const busy = (err: unknown): RsoError => new RsoError('RSO_ERR_RELAY_BUSY', STORE_DOWN_TEXT, `redis: ${err instanceof Error ? err.message : String(err)}`);

  async function loadKey(): Promise<void> {
    const fresh = (key ?? randomBytes(32)).toString('base64url');
    // The first node sets it; after an empty restart of Redis the nodes put back the one they share.
    await redis.set('rso:key', fresh, 'NX');
    const k = await redis.get('rso:key');
    if (k) key = Buffer.from(k, 'base64url');
  }

  async function renew(): Promise<void> {
    if (renewing || !up) return;
    renewing = true;
    try {
      await loadKey();
      if (nodeUrl !== null) await redis.set(`rso:node:${nodeId}`, nodeUrl, 'PX', leaseMs);
      const keys = [...held].map((n) => `rso:np:${n}`);
      for (let i = 0; i < keys.length; i += 500) await redis.eval(RENEW, keys.slice(i, i + 500).length, ...keys.slice(i, i + 500), nodeId, String(leaseMs));
      lastRenew = Date.now();
    } catch {
      // Redis went away mid-way; the close handler logged it and the next tick tries again.
    } finally {
      renewing = false;
    }
  }

  await loadKey();

  return {
    nodeId,
    async register(url: string) {
      nodeUrl = url;
      await redis.set(`rso:node:${nodeId}`, url, 'PX', leaseMs);
      o.log('cluster-joined', { node: nodeId, nodeUrl: url, redis: where });
    },
    nodeKey: () => key,
    async reserve() {
      if (!up) throw busy('not connected');
      try {
        for (let digits = MIN_NAMEPLATE_DIGITS; digits <= MAX_NAMEPLATE_DIGITS; digits++) {
          for (let draw = 0; draw < DRAWS_PER_LENGTH; draw++) {
            const name = String(randomInt(10 ** digits)).padStart(digits, '0');
            if (held.has(name)) continue;
            if ((await redis.set(`rso:np:${name}`, nodeId, 'PX', leaseMs, 'NX')) === 'OK') {
              held.add(name);
              return name;
            }
          }
        }
      } catch (err) {
        throw busy(err);
      }
      throw new RsoError('RSO_ERR_RELAY_BUSY', 'The relay cluster has no free session numbers; try again in a few minutes.', 'nameplates exhausted');
    },
    async locate(nameplate: string): Promise<Location> {
      if (held.has(nameplate)) return { kind: 'here' };
      if (!up) throw busy('not connected');
      try {
        const owner = await redis.get(`rso:np:${nameplate}`);
        if (owner === null) return { kind: 'none' };
        if (owner === nodeId) return { kind: 'here' };
        const url = await redis.get(`rso:node:${owner}`);
        // The owner's own lease has lapsed: it is gone, and so is the session.
        return url === null ? { kind: 'none' } : { kind: 'remote', url };
      } catch (err) {
        throw busy(err);
      }
    },
    held(now: ReadonlySet<string>) {
      const gone = [...held].filter((n) => !now.has(n));
      // Reserved a moment ago and not yet opened by the machine: keep until the machine has it.
      const next = new Set(now);
      held = next;
      if (gone.length > 0 && up) {
        redis.eval(RELEASE, gone.length, ...gone.map((n) => `rso:np:${n}`), nodeId).catch(() => {
          // Unreleased entries lapse with their lease.
        });
      }
      if (Date.now() - lastRenew >= leaseMs / 3) void renew();
    },
    async close() {
      try {
        if (up) {
          const keys = [...held].map((n) => `rso:np:${n}`);
          if (keys.length > 0) await redis.eval(RELEASE, keys.length, ...keys, nodeId);
          await redis.del(`rso:node:${nodeId}`);
        }
      } catch {
        // Leases lapse on their own.
      }
      redis.disconnect();
    },
  };
}
