// The relay's certificate and key: read from files at start and again on SIGHUP. A bad pair is
// refused before it replaces the good one, so a reload with a half-copied file keeps serving.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { RsoError } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
}

export function loadTls(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new RsoError('RSO_ERR_CONFIG', `Could not read the TLS ${what} ${path} (${code}).`, `read ${what}: ${code}`);
    }
  };
  const material = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  try {
    // Parses both and checks that the key belongs to the certificate.
    createSecureContext(material);
  } catch (err) {
    // OpenSSL's reason names the problem (e.g. key values mismatch), never key material.
    const reason = err instanceof Error ? err.message : String(err);
    throw new RsoError('RSO_ERR_CONFIG', `The TLS certificate ${files.certFile} and key ${files.keyFile} do not form a usable pair: ${reason}.`, `tls pair: ${reason}`);
  }
  return material;
}
