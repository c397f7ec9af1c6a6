// Which relay URLs a client may dial. Pure: decided from the text of the URL alone, before any
// name lookup or socket, so a refused URL produces no traffic at all.
import { isIP } from 'node:net';
import { RsoError } from '../errors.js';

/**
 * Hosts for which plain ws:// is acceptable without --insecure: traffic to them never leaves
 * this machine, so there is nobody on the path to read the relay plane (the token in `hello`).
 */
export function isLoopbackHost(hostname: string): boolean {
  // URL keeps the brackets around an IPv6 literal.
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (host === '::1') return true;
  // URL has already normalised shorthand forms such as "127.1" to dotted quads.
  if (isIP(host) === 4) return host.startsWith('127.');
  return false;
}

/**
 * Checks a relay URL and returns it parsed. Refuses anything but ws:// and wss://, and ws:// to
 * a host that is not this machine unless `insecure` is set.
 */
export function checkRelayUrl(relay: string, insecure = false): URL {
  let url: URL;
  try {
    url = new URL(relay);
  } catch {
    throw new RsoError('RSO_ERR_USAGE', `"${relay.slice(0, 200)}" is not a relay URL (expected wss://host[:port]).`, 'unparsable relay URL');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new RsoError('RSO_ERR_USAGE', `The relay URL ${url.origin} must start with wss:// (or ws:// for a relay on this machine).`, `relay URL scheme ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    // A password in the URL would end up in logs and error messages that name the URL.
    throw new RsoError('RSO_ERR_USAGE', 'The relay URL must not contain a user name or password.', 'credentials in relay URL');
  }
  if (url.protocol === 'ws:' && !insecure && !isLoopbackHost(url.hostname)) {
    throw new RsoError(
      'RSO_ERR_INSECURE',
      `Refusing the unencrypted ws:// connection to ${url.host}: use wss://, or pass --insecure if you really mean it.`,
      `ws:// to non-loopback host ${url.host}`,
    );
  }
  return url;
}
