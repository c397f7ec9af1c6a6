// `--ca FILE` / `RSO_CA`: an extra certificate authority a client trusts for wss:// (a relay
// with a certificate from an organisation's own CA). The system CAs stay trusted as well.
import { readFileSync } from 'node:fs';
import { RsoError } from '../errors.js';

export const CA_OPTION_HELP = 'also trust this CA certificate (PEM) for the relay (default: $RSO_CA)';

/** The PEM text of `--ca` (or RSO_CA when the flag is absent), or undefined for neither. */
export function readCa(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = file ?? (env.RSO_CA !== undefined && env.RSO_CA !== '' ? env.RSO_CA : undefined);
  if (path === undefined) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RsoError('RSO_ERR_CONFIG', `Could not read the CA certificate ${path} (${code}).`, `read ca: ${code}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new RsoError('RSO_ERR_USAGE', `${path} is not a PEM certificate (it has no BEGIN CERTIFICATE line).`, 'ca not PEM');
  }
  return pem;
}
