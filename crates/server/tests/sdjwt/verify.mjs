// An outside SD-JWT VC verifier, as a relying party would run it: the SD-JWT VC library
// `@sd-jwt/sd-jwt-vc` (with its Token Status List support) and WebCrypto through
// `@sd-jwt/crypto-nodejs`, which know ES256 and EdDSA but not SM2. Nothing here comes from
// elicense: the verifier learns the issuer's keys only from the issuer metadata the node
// publishes (`/.well-known/jwt-vc-issuer` + the path of `iss`, SD-JWT VC §5) and the status
// only from the status list token it fetches over HTTP and checks itself.
//
// Usage: ELICENSE_SDJWT_DIR=.cache/sdjwt node verify.mjs --trust ISS [--trust ISS]... < CREDENTIAL
// Prints one JSON object on stdout:
//   {"valid":true, "iss", "vct", "alg", "kid", "status":{"uri","idx","value","alg","kid"}}
//   {"valid":false, "error":"...", "iss"?, "alg"?, "status"?}
// and exits 0 (valid), 1 (not valid) or 2 (could not run).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const dir = process.env.ELICENSE_SDJWT_DIR;
if (!dir) {
  console.error('ELICENSE_SDJWT_DIR (the packages installed by scripts/deps.sh) is not set');
  process.exit(2);
}
const require = createRequire(join(resolve(dir), 'package.json'));
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { digest, getVerifier } = require('@sd-jwt/crypto-nodejs');

const trusted = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--trust' && i + 1 < process.argv.length) {
    trusted.push(process.argv[++i]);
  } else {
    console.error(`unknown argument ${process.argv[i]}`);
    process.exit(2);
  }
}

/** The JSON of one base64url segment. */
function segment(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** WebCrypto parameters of the algorithms this verifier supports: ES256 and EdDSA only. */
const ALGS = {
  ES256: {
    key: { name: 'ECDSA', namedCurve: 'P-256' },
    verify: { name: 'ECDSA', hash: { name: 'SHA-256' } },
    fits: (jwk) => jwk.kty === 'EC' && jwk.crv === 'P-256',
  },
  EdDSA: {
    key: { name: 'Ed25519' },
    verify: { name: 'Ed25519' },
    fits: (jwk) => jwk.kty === 'OKP' && jwk.crv === 'Ed25519',
  },
};

/**
 * A library `Verifier` over the issuer's JWKS: the key is the one the JWS header's `kid`
 * names, of the header's `alg`; `seen` records which were used.
 */
function jwksVerifier(jwks, seen, typ) {
  return async (data, signature) => {
    const header = segment(data.split('.')[0]);
    if (typ && header.typ !== typ) {
      throw new Error(`typ ${JSON.stringify(header.typ)} is not ${typ}`);
    }
    const alg = ALGS[header.alg];
    if (!alg) {
      throw new Error(`unsupported alg ${header.alg}`);
    }
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    if (!jwk) {
      throw new Error(`no key ${header.kid} in the issuer's JWKS`);
    }
    if (!alg.fits(jwk)) {
      throw new Error(`key ${header.kid} is not a ${header.alg} key`);
    }
    const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
    if (jwk.y !== undefined) pub.y = jwk.y;
    const verify = await getVerifier(pub, alg.key, alg.verify);
    seen.alg = header.alg;
    seen.kid = header.kid;
    return verify(data, signature);
  };
}

/** The issuer metadata of `iss` (SD-JWT VC §5): fetched, and its `issuer` must be `iss`. */
async function issuerMetadata(iss) {
  const url = new URL(iss);
  const path = url.pathname === '/' ? '' : url.pathname;
  const at = `${url.origin}/.well-known/jwt-vc-issuer${path}`;
  const resp = await fetch(at);
  if (!resp.ok) {
    throw new Error(`issuer metadata ${at}: HTTP ${resp.status}`);
  }
  const meta = await resp.json();
  if (meta.issuer !== iss) {
    throw new Error(`issuer metadata ${at} names ${meta.issuer}, not ${iss}`);
  }
  if (!meta.jwks || !Array.isArray(meta.jwks.keys)) {
    throw new Error(`issuer metadata ${at} has no jwks`);
  }
  return meta;
}

async function main() {
  const credential = readFileSync(0, 'utf8').trim();
  const out = { valid: false };
  const used = {};
  const listUsed = {};
  const status = {};
  try {
    const payload = segment(credential.split('~')[0].split('.')[1]);
    out.iss = payload.iss;
    if (!trusted.includes(payload.iss)) {
      throw new Error(`issuer ${payload.iss} is not trusted`);
    }
    if (!payload.status?.status_list) {
      throw new Error('the credential has no status_list reference');
    }
    const meta = await issuerMetadata(payload.iss);
    const sdjwt = new SDJwtVcInstance({
      hasher: digest,
      verifier: jwksVerifier(meta.jwks, used),
      statusVerifier: jwksVerifier(meta.jwks, listUsed, 'statuslist+jwt'),
      // The library's own fetch (Accept and content type `application/statuslist+jwt`), plus
      // what Token Status List asks of a relying party: the token's `sub` is the URI.
      statusListFetcher: async (uri) => {
        status.uri = uri;
        const resp = await fetch(uri, { headers: { Accept: 'application/statuslist+jwt' } });
        if (!resp.ok) {
          throw new Error(`status list ${uri}: HTTP ${resp.status}`);
        }
        const type = resp.headers.get('content-type') || '';
        if (!type.startsWith('application/statuslist+jwt')) {
          throw new Error(`status list ${uri}: content type ${type}`);
        }
        const jwt = (await resp.text()).trim();
        const claims = segment(jwt.split('.')[1]);
        if (claims.sub !== uri) {
          throw new Error(`status list ${uri}: sub ${claims.sub}`);
        }
        return jwt;
      },
      // Called by the library once the token's signature verified, with the entry's value.
      statusValidator: async (value) => {
        status.idx = payload.status.status_list.idx;
        status.value = value;
        if (value !== 0) {
          throw new Error(`status is ${value} (${value === 1 ? 'invalid' : 'suspended'})`);
        }
      },
    });
    const result = await sdjwt.verify(credential);
    out.valid = true;
    out.vct = result.payload.vct;
  } catch (e) {
    out.valid = false;
    out.error = String(e && e.message ? e.message : e);
  }
  Object.assign(out, used);
  if (Object.keys(status).length) {
    out.status = { ...status, ...listUsed };
  }
  return out;
}

main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(out.valid ? 0 : 1);
  },
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
