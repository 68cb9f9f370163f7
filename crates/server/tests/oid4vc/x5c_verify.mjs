// An outside JOSE library (`jose` from npm) checks an issuer-signed JWT with the key of the
// certificate in its `x5c` header, the way a verifier that trusts a CA (and knows nothing of
// elicense's trust list) would; the chain itself is checked by the caller (`openssl verify`).
//
// Usage: ELICENSE_OID4VC_DIR=.cache/oid4vc node x5c_verify.mjs < SD-JWT
// Prints {"valid":true,"alg","typ","iss"} or {"valid":false,"error"} and exits 0 or 1 (2: could
// not run).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const dir = process.env.ELICENSE_OID4VC_DIR;
if (!dir) {
  console.error('ELICENSE_OID4VC_DIR (the packages installed by scripts/deps.sh) is not set');
  process.exit(2);
}
const require = createRequire(join(resolve(dir), 'package.json'));
const jose = require('jose');

const jwt = readFileSync(0, 'utf8').trim().split('~')[0];
try {
  const header = jose.decodeProtectedHeader(jwt);
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) {
    throw new Error('no x5c header');
  }
  const body = header.x5c[0].match(/.{1,64}/g).join('\n');
  const key = await jose.importX509(
    `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`,
    header.alg,
  );
  const { payload } = await jose.compactVerify(jwt, key);
  const claims = JSON.parse(new TextDecoder().decode(payload));
  console.log(JSON.stringify({ valid: true, alg: header.alg, typ: header.typ, iss: claims.iss }));
} catch (e) {
  console.log(JSON.stringify({ valid: false, error: String(e && e.message ? e.message : e) }));
  process.exit(1);
}
