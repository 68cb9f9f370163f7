// An outside OpenID4VP 1.0 verifier (a relying party: a shop, a police officer's app) to run
// against the NODE's wallet: the relying party of vp_rp.mjs (a fresh self-signed P-256
// certificate, client_id `x509_hash:...`, a signed request object by reference with a DCQL
// query for one dc+sd-jwt credential, direct_post or direct_post.jwt), all protocol work done
// by `@openid4vc/openid4vp`, `dcql` and `@sd-jwt/sd-jwt-vc`. It learns the issuer's keys only
// from the issuer metadata the node publishes (`/.well-known/jwt-vc-issuer` + the path of
// `iss`, SD-JWT VC §5), and only for the issuers given by --trust. The issuer signature is
// checked with WebCrypto: ES256 and EdDSA, not SM2.
//
// Usage: ELICENSE_OID4VC_DIR=.cache/oid4vc node vp_verifier.mjs --trust ISS [--trust ISS]...
//          [--mode direct_post|direct_post.jwt] [--vct VCT] [--claims a,b,c]
//          [--host 127.0.0.1] [--port N] [--timeout SECONDS]
//   --vct      the credential type asked for (default urn:elicense:type:fishing)
//   --claims   the claims asked for (default holder_name)
//   --timeout  how long to wait for the wallet's response (default 60 s)
// Prints, as its FIRST stdout line, {"url": "openid4vp://?client_id=..&request_uri=..",
// "client_id", "response_uri"} (give the URL to the wallet), then serves the request object
// and waits for the response at response_uri; the wallet gets 200 {} or 400
// {"error","error_description","code"}. Then prints ONE more line:
//   {"valid": true, "iss", "vct", "claims": {<disclosed claim>: value, ...}, "kb": {...}}
//   {"valid": false, "code": "<stable code>", "error": "...", "refused"?: true}
// codes: refused (the wallet answered error=...), timeout, state, jwe, bad_response,
// issuer_untrusted, issuer_signature, kb_missing, kb_signature, kb_nonce, kb_sd_hash, kb_aud,
// kb_iat, extra_claim (a claim not asked for was disclosed), dcql_unsatisfied.
// Exits 0 (valid), 1 (not valid) or 2 (could not run).

import { parseArgs } from 'node:util';
import { describe, jwksVerifier, Refused, startVerifier } from './vp_rp.mjs';

/** Could not run: prints `{"valid": false, "error"}` and exits 2. */
function fail(message) {
  process.stdout.write(`${JSON.stringify({ valid: false, error: message })}\n`);
  process.exit(2);
}

const dir = process.env.ELICENSE_OID4VC_DIR;
if (!dir) fail('ELICENSE_OID4VC_DIR (the packages installed by scripts/deps.sh) is not set');

let opts;
try {
  opts = parseArgs({
    options: {
      trust: { type: 'string', multiple: true, default: [] },
      mode: { type: 'string', default: 'direct_post' },
      vct: { type: 'string', default: 'urn:elicense:type:fishing' },
      claims: { type: 'string', default: 'holder_name' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      timeout: { type: 'string', default: '60' },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(String(e.message));
}
if (!['direct_post', 'direct_post.jwt'].includes(opts.mode)) fail('--mode must be direct_post or direct_post.jwt');
const claims = opts.claims.split(',').map((c) => c.trim()).filter(Boolean);
if (!claims.length) fail('--claims names no claim');
const port = Number(opts.port);
const timeout = Number(opts.timeout);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a port number');
if (!(timeout > 0)) fail('--timeout must be a positive number of seconds');

/** The issuer metadata of `iss` (SD-JWT VC §5): fetched, and its `issuer` must be `iss`. */
async function issuerMetadata(iss) {
  const url = new URL(iss);
  const path = url.pathname === '/' ? '' : url.pathname;
  const at = `${url.origin}/.well-known/jwt-vc-issuer${path}`;
  const resp = await fetch(at);
  if (!resp.ok) throw new Refused('issuer_untrusted', `issuer metadata ${at}: HTTP ${resp.status}`);
  const meta = await resp.json();
  if (meta.issuer !== iss) throw new Refused('issuer_untrusted', `issuer metadata ${at} names ${meta.issuer}, not ${iss}`);
  if (!meta.jwks || !Array.isArray(meta.jwks.keys)) throw new Refused('issuer_untrusted', `issuer metadata ${at} has no jwks`);
  return meta;
}

async function main() {
  let rp;
  try {
    rp = await startVerifier({ dir, host: opts.host, port });
  } catch (e) {
    fail(`could not start: ${describe(e)}`);
  }
  const crypto = rp.packages.crypto;
  // The library's issuer signature check: the credential's iss must be trusted, its key is
  // the one its metadata names by kid.
  // The same callback checks the status list token the library fetches, which names no issuer
  // (Token Status List): it must be signed by a key of a trusted issuer, found by its kid.
  const issuerVerifier = async (data, signature) => {
    const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(data.split('.')[1], 'base64url').toString('utf8'));
    if (header.typ === 'statuslist+jwt' && payload.iss === undefined) {
      for (const iss of opts.trust) {
        const meta = await issuerMetadata(iss);
        if (meta.jwks.keys.some((k) => k.kid === header.kid)) {
          return jwksVerifier(crypto, meta.jwks)(data, signature);
        }
      }
      throw new Refused('issuer_untrusted', `status list key ${header.kid} is no trusted issuer's`);
    }
    if (!opts.trust.includes(payload.iss)) throw new Refused('issuer_untrusted', `issuer ${payload.iss} is not trusted`);
    const meta = await issuerMetadata(payload.iss);
    return jwksVerifier(crypto, meta.jwks)(data, signature);
  };
  const req = await rp.newRequest({ mode: opts.mode, vct: opts.vct, claims, issuerVerifier });
  process.stdout.write(`${JSON.stringify({ url: req.url, client_id: rp.clientId, response_uri: req.payload.response_uri })}\n`);

  let timer;
  const verdict = await Promise.race([
    req.result,
    new Promise((ok) => {
      timer = setTimeout(() => ok({ valid: false, code: 'timeout', error: `no response in ${timeout} s` }), timeout * 1000);
    }),
  ]);
  clearTimeout(timer);
  // Let the reply to the wallet go out before the server stops.
  await new Promise((ok) => setTimeout(ok, 100));
  await Promise.race([rp.close(), new Promise((ok) => setTimeout(ok, 2000))]);

  if (verdict.refused) {
    return { valid: false, refused: true, code: 'refused', error: verdict.error, error_description: verdict.error_description };
  }
  if (!verdict.valid) return { valid: false, code: verdict.code, error: verdict.error };
  const { iss, vct } = verdict.claims;
  const disclosed = Object.fromEntries(verdict.disclosed.map((k) => [k, verdict.claims[k]]));
  return { valid: true, iss, vct, claims: disclosed, kb: verdict.kb };
}

main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(out.valid ? 0 : 1);
  },
  (e) => fail(describe(e)),
);
