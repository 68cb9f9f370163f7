// An outside OpenID4VP 1.0 wallet, as a holder's phone would run it against the node's
// verifier: the protocol is the OpenWallet Foundation libraries' (`@openid4vc/openid4vp` for
// the request object, the client identifier prefix and the authorization response, `dcql` for
// the query, `@sd-jwt/sd-jwt-vc` for the presentation and its key binding JWT), with `jose` and
// node's crypto as their callbacks. Nothing here comes from elicense: the wallet learns the
// verifier only from the `openid4vp://` URL and the signed request object it points to.
//
// Usage:
//   ELICENSE_OID4VC_DIR=.cache/oid4vc node vp_wallet.mjs --url 'openid4vp://?client_id=..&request_uri=..'
//     --credential FILE --holder-key FILE [--mode MODE] [--trust-x509-hash H]
//     [--submit-to URL] [--save FILE] [--form FILE]
//   --credential   an SD-JWT VC `jwt~d1~..~dn~` bound to the holder by `cnf.jwk` (its issuer
//                  signature is not checked here: the wallet only presents it, so SM2 is fine);
//                  repeat it to hold several (all bound to the one holder key)
//   --holder-key   the holder's private JWK (P-256 → ES256; Ed25519 → EdDSA)
//   --mode         ok (default) | extra (also disclose one claim not asked for) | missing (leave
//                  one asked-for claim out) | wrong-nonce | wrong-aud (KB-JWT) | no-kb |
//                  wrong-state (the response's state is another value) | refuse
//                  (error=access_denied) | other-key (KB-JWT signed by a fresh key)
//   --trust-x509-hash H   refuse (exit 2) unless the verifier's client_id is `x509_hash:H`
//   --submit-to URL       post the response to URL instead of the request's response_uri
//   --save FILE           write the exact form body posted to FILE
//   --form FILE           post FILE's body verbatim (a replay) instead of building a response;
//                         --credential and --holder-key are then not needed. With --submit-to
//                         too the request object is not fetched at all (a node may serve it
//                         only once); `client_id` then comes from the URL, the rest is null
//
// For direct_post.jwt the library picks the verifier's `enc` key (its kid goes in the JWE
// header), enc A128GCM unless the client metadata offers only others, alg ECDH-ES, and puts
// `apv` = base64url(request nonce) in the JWE header (part of the ECDH-ES key derivation).
//
// Prints ONE JSON object on stdout:
//   {"client_id", "client_id_prefix", "response_mode",
//    "dcql": {"can_be_satisfied": bool, "claims": [["holder_name"], ...]},
//    "disclosed": ["holder_name", ...], "status": <HTTP status>, "body": <the reply's JSON or text>}
//   (`dcql.claims`: the claim paths asked for; `disclosed`: the names of the disclosures
//   presented; a claim the issuer did not make selectively disclosable is always presented
//   but not listed there. `missing` leaves out the last asked-for claim that is selectively
//   disclosable.)
// or {"error": "..."} when it could not run (the request object did not verify, the client is
// not trusted, bad arguments, the verifier could not be reached...).
// Exits 0 when the verifier replied 2xx, 1 when it replied 4xx/5xx, 2 when it could not run.
// The wallet answers every credential query of the DCQL query (all are required when the
// query has no credential_sets) with the credential it holds whose `vct` the query names (the
// first one it holds when none does); `--mode` shapes the answer to the first query, the
// others are answered honestly. `dcql.claims` and `disclosed` are the first query's;
// `dcql.queries` lists every query's id. When the DCQL query cannot be satisfied the wallet
// still presents what it has (so a test can see the verifier refuse it) and says so in
// `dcql.can_be_satisfied`.

import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const MODES = [
  'ok',
  'extra',
  'missing',
  'wrong-nonce',
  'wrong-aud',
  'no-kb',
  'wrong-state',
  'refuse',
  'other-key',
];

/** Could not run: prints `{"error"}` and exits 2. */
function fail(message) {
  process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  process.exit(2);
}

const dir = process.env.ELICENSE_OID4VC_DIR;
if (!dir) fail('ELICENSE_OID4VC_DIR (the packages installed by scripts/deps.sh) is not set');
const require = createRequire(join(resolve(dir), 'package.json'));
/** Loads a package of ELICENSE_OID4VC_DIR (some are ES modules only, so by import()). */
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

let opts;
try {
  opts = parseArgs({
    options: {
      url: { type: 'string' },
      credential: { type: 'string', multiple: true },
      'holder-key': { type: 'string' },
      mode: { type: 'string', default: 'ok' },
      'trust-x509-hash': { type: 'string' },
      'submit-to': { type: 'string' },
      save: { type: 'string' },
      form: { type: 'string' },
    },
    strict: true,
  }).values;
} catch (e) {
  fail(String(e.message));
}
if (!opts.url) fail('--url is required');
if (!MODES.includes(opts.mode)) fail(`--mode must be one of ${MODES.join(', ')}`);
if (!opts.form && (!opts.credential || !opts['holder-key'])) {
  fail('--credential and --holder-key are required (unless --form)');
}

const vp = await load('@openid4vc/openid4vp');
const { setGlobalConfig } = await load('@openid4vc/utils');
const { DcqlQuery } = await load('dcql');
const jose = await load('jose');
const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
const { digest, ES256, getSigner, generateKeyPair } = await load('@sd-jwt/crypto-nodejs');

// The node serves its verifier on http://127.0.0.1 in the tests; the library accepts only
// https:// URLs unless told otherwise.
setGlobalConfig({ allowInsecureUrls: true });

/** The form bodies this wallet posted, in order (for --save). */
const posted = [];
/** The library's fetch: the platform's, recording what is posted. */
async function recordingFetch(input, init) {
  if (init && String(init.method).toUpperCase() === 'POST' && init.body != null) {
    posted.push(String(init.body));
  }
  return fetch(input, init);
}

/** The library's hash callback (only SHA-256 is needed: x509_hash). */
function hash(data, alg) {
  const name = String(alg).toLowerCase().replace('-', '');
  return new Uint8Array(createHash(name).update(data).digest());
}

/**
 * The library's JWT verification callback. The request object of an x509_* client is signed by
 * the key of its leaf certificate (`x5c[0]`); the library itself then checks that the client_id
 * is that certificate's hash, and `exp`/`nbf`.
 */
async function verifyJwt(signer, { compact }) {
  if (signer.method !== 'x5c') {
    return { verified: false };
  }
  const cert = new X509Certificate(Buffer.from(signer.x5c[0], 'base64'));
  const now = new Date();
  if (new Date(cert.validFrom) > now || new Date(cert.validTo) < now) {
    throw new Error(`the request object's certificate is not valid now (${cert.validFrom} - ${cert.validTo})`);
  }
  const key = cert.publicKey;
  try {
    await jose.compactVerify(compact, key, { algorithms: [signer.alg] });
  } catch (e) {
    return { verified: false };
  }
  return { verified: true, signerJwk: await jose.exportJWK(key) };
}

/** The library's certificate callback: the SAN names (needed by x509_san_* clients only). */
function getX509CertificateMetadata(b64) {
  const cert = new X509Certificate(Buffer.from(b64, 'base64'));
  const names = (cert.subjectAltName || '').split(', ').filter(Boolean);
  const of = (kind) => names.filter((n) => n.startsWith(`${kind}:`)).map((n) => n.slice(kind.length + 1));
  return { sanDnsNames: of('DNS'), sanUriNames: of('URI') };
}

/** The library's JWE callback for direct_post.jwt (ECDH-ES with the verifier's `enc` key). */
async function encryptJwe(encryptor, data) {
  const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
  const header = { alg: encryptor.alg, enc: encryptor.enc };
  if (encryptor.publicJwk.kid) header.kid = encryptor.publicJwk.kid;
  const jwe = new jose.CompactEncrypt(new TextEncoder().encode(data)).setProtectedHeader(header);
  const params = {};
  if (encryptor.apu) params.apu = jose.base64url.decode(encryptor.apu);
  if (encryptor.apv) params.apv = jose.base64url.decode(encryptor.apv);
  if (Object.keys(params).length) jwe.setKeyManagementParameters(params);
  return { jwe: await jwe.encrypt(key), encryptionJwk: encryptor.publicJwk };
}

/** A message for any error, with the library's OAuth error description when it has one. */
function describe(e) {
  const parts = [String(e && e.message ? e.message : e)];
  const desc = e?.errorResponse?.error_description;
  if (desc && !parts[0].includes(desc)) parts.push(desc);
  if (e?.cause?.message && !parts.join(' ').includes(e.cause.message)) parts.push(e.cause.message);
  return parts.join(': ');
}

/** The JWS alg and WebCrypto parameters of a holder key. */
function holderAlg(full) {
  // Only the key itself: WebCrypto refuses a JWK whose use/key_ops/alg do not fit signing.
  const jwk = { kty: full.kty, crv: full.crv, x: full.x, d: full.d };
  if (full.y !== undefined) jwk.y = full.y;
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return { alg: 'ES256', signer: () => ES256.getSigner(jwk) };
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return { alg: 'EdDSA', signer: () => getSigner(jwk, { name: 'Ed25519' }, { name: 'Ed25519' }) };
  }
  throw new Error(`unsupported holder key ${jwk.kty}/${jwk.crv}`);
}

/**
 * A presentation frame (the library's `{claim: true, nested: {claim: true}}`) for DCQL claim
 * paths; a path step that is an array index or null discloses the whole claim before it.
 */
function frameOf(paths) {
  const frame = {};
  for (const path of paths) {
    let at = frame;
    for (let i = 0; i < path.length; i++) {
      const step = path[i];
      const next = path[i + 1];
      if (typeof step !== 'string') break;
      if (i === path.length - 1 || typeof next !== 'string') {
        at[step] = true;
        break;
      }
      if (typeof at[step] !== 'object') at[step] = {};
      at = at[step];
    }
  }
  return frame;
}

async function main() {
  const out = {};

  // A replay to a given URL needs no request (the node may serve a request object only once).
  if (opts.form && opts['submit-to']) {
    const params = new URL(opts.url).searchParams;
    Object.assign(out, { client_id: params.get('client_id'), client_id_prefix: null, response_mode: null, dcql: null, disclosed: null });
    return post(out, opts['submit-to'], readFileSync(opts.form, 'utf8'));
  }

  // 1. The request: the URL's parameters, then the signed request object it references.
  let resolved;
  try {
    const parsed = vp.parseOpenid4vpAuthorizationRequest({ authorizationRequest: opts.url });
    if (parsed.type !== 'jar') {
      throw new Error('the request is not a signed request object (no request_uri)');
    }
    resolved = await vp.resolveOpenid4vpAuthorizationRequest({
      authorizationRequestPayload: parsed.params,
      callbacks: {
        verifyJwt,
        hash,
        fetch: recordingFetch,
        getX509CertificateMetadata,
        decryptJwe: async () => ({ decrypted: false }),
      },
    });
  } catch (e) {
    fail(`the authorization request did not verify: ${describe(e)}`);
  }
  const request = resolved.authorizationRequestPayload;
  out.client_id = request.client_id;
  out.client_id_prefix = resolved.client.prefix;
  out.response_mode = request.response_mode ?? null;
  if (opts['trust-x509-hash'] !== undefined) {
    if (resolved.client.prefix !== 'x509_hash' || resolved.client.identifier !== opts['trust-x509-hash']) {
      fail(`the verifier ${request.client_id} is not the trusted x509_hash:${opts['trust-x509-hash']}`);
    }
  }
  if (!resolved.dcql) {
    fail('the request has no dcql_query');
  }

  // 2. The query, against the credential.
  let query;
  try {
    query = DcqlQuery.parse(resolved.dcql.query);
    DcqlQuery.validate(query);
  } catch (e) {
    fail(`the dcql_query is not valid: ${describe(e)}`);
  }
  const credentialQuery = query.credentials[0];
  const requested = (credentialQuery.claims ?? []).map((c) => c.path);
  out.dcql = { can_be_satisfied: null, claims: requested, queries: query.credentials.map((q) => q.id) };

  let body;
  const vpToken = {};
  if (opts.form) {
    body = readFileSync(opts.form, 'utf8');
    out.disclosed = null;
  } else {
    const holderKey = JSON.parse(readFileSync(opts['holder-key'], 'utf8'));
    const held = [];
    for (const file of opts.credential) {
      const raw = readFileSync(file, 'utf8').trim();
      try {
        held.push({ raw, claims: await new SDJwtVcInstance({ hasher: digest }).getClaims(raw) });
      } catch (e) {
        fail(`the credential is not an SD-JWT VC: ${describe(e)}`);
      }
    }
    const result = DcqlQuery.query(
      query,
      held.map(({ claims }) => ({
        credential_format: 'dc+sd-jwt',
        vct: claims.vct,
        claims,
        cryptographic_holder_binding: Boolean(claims.cnf?.jwk),
      })),
    );
    out.dcql.can_be_satisfied = result.can_be_satisfied;

    // 3. The presentations: for each query, the disclosures of exactly the requested claims
    // (or, by mode, one more / one fewer), with a key binding JWT for this verifier and request.
    for (const [i, cq] of query.credentials.entries()) {
      const vcts = cq.meta?.vct_values ?? [];
      const h = held.find(({ claims }) => vcts.includes(claims.vct)) ?? held[0];
      const mode = i === 0 ? opts.mode : 'ok';
      const { presentation, disclosed } = await presentOne(h.raw, cq, mode, holderKey, request);
      vpToken[cq.id] = [presentation];
      if (i === 0) out.disclosed = disclosed;
    }

    if (opts.mode === 'refuse') {
      body = new URLSearchParams({ error: 'access_denied', ...(request.state ? { state: request.state } : {}) }).toString();
    } else {
      // 4. The authorization response, by the library (JWE for direct_post.jwt).
      const asIf = opts.mode === 'wrong-state' ? { ...request, state: `other-${jose.base64url.encode(randomBytes(12))}` } : request;
      const target = opts['submit-to'] ? { ...asIf, response_uri: opts['submit-to'] } : asIf;
      const jarm = vp.isJarmResponseMode(request.response_mode ?? '')
        ? {
            encryption: {},
            serverMetadata: {
              authorization_encryption_alg_values_supported: ['ECDH-ES'],
              authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
            },
          }
        : undefined;
      let response;
      try {
        response = await vp.createOpenid4vpAuthorizationResponse({
          authorizationRequestPayload: asIf,
          authorizationResponsePayload: { vp_token: vpToken },
          jarm,
          callbacks: { encryptJwe },
        });
      } catch (e) {
        fail(`could not make the authorization response: ${describe(e)}`);
      }
      let submitted;
      try {
        submitted = await vp.submitOpenid4vpAuthorizationResponse({
          authorizationRequestPayload: target,
          authorizationResponsePayload: response.authorizationResponsePayload,
          jarm: response.jarm,
          callbacks: { fetch: recordingFetch },
        });
      } catch (e) {
        fail(`could not post the authorization response: ${describe(e)}`);
      }
      return finish(out, submitted.response);
    }
  }

  // A refusal or a replayed form: a plain form POST.
  const to = opts['submit-to'] ?? request.response_uri;
  if (!to) fail('the request has no response_uri');
  return post(out, to, body);
}

/** The presentation of `credential` for the credential query `cq`, shaped by `mode`. */
async function presentOne(credential, cq, mode, holderKey, request) {
  const requested = (cq.claims ?? []).map((c) => c.path);
  const sdjwt = new SDJwtVcInstance({ hasher: digest });
  const keys = await sdjwt.presentableKeys(credential);
  let paths = requested;
  if (mode === 'missing') {
    // The last asked-for claim that is selectively disclosable (a plain one cannot be left out).
    const at = paths.map((p) => keys.includes(p[0])).lastIndexOf(true);
    if (at < 0) fail('mode missing: no asked-for claim is selectively disclosable');
    paths = paths.filter((_, i) => i !== at);
  }
  const frame = frameOf(paths);
  if (mode === 'extra') {
    const asked = new Set(requested.map((p) => p[0]));
    const more = keys.find((k) => !k.includes('.') && !asked.has(k));
    if (!more) fail('mode extra: the credential has no claim the query does not ask for');
    frame[more] = true;
  }
  let kb;
  if (mode !== 'no-kb') {
    let key = holderKey;
    if (mode === 'other-key') {
      const { alg } = holderAlg(holderKey);
      key = (alg === 'ES256' ? await ES256.generateKeyPair() : await generateKeyPair({ name: 'Ed25519' })).privateKey;
    }
    const { alg, signer } = holderAlg(key);
    sdjwt.config({ kbSigner: await signer(), kbSignAlg: alg });
    kb = {
      payload: {
        iat: Math.floor(Date.now() / 1000),
        aud:
          mode === 'wrong-aud'
            ? `x509_hash:${jose.base64url.encode(createHash('sha256').update('another verifier').digest())}`
            : request.client_id,
        nonce: mode === 'wrong-nonce' ? jose.base64url.encode(randomBytes(16)) : request.nonce,
      },
    };
  }
  let presentation;
  try {
    presentation = await sdjwt.present(credential, frame, kb ? { kb } : undefined);
  } catch (e) {
    fail(`could not present the credential: ${describe(e)}`);
  }
  const decoded = await sdjwt.decode(presentation);
  return { presentation, disclosed: decoded.disclosures.filter((d) => d.key !== undefined).map((d) => d.key) };
}

/** Posts a form body as it is. */
async function post(out, to, body) {
  let reply;
  try {
    reply = await recordingFetch(to, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
  } catch (e) {
    fail(`could not post to ${to}: ${describe(e)}`);
  }
  return finish(out, reply);
}

/** The verifier's reply into `out`; --save. */
async function finish(out, reply) {
  if (opts.save) {
    writeFileSync(opts.save, posted.length ? posted[posted.length - 1] : '');
  }
  out.status = reply.status;
  const text = await reply.text();
  try {
    out.body = JSON.parse(text);
  } catch {
    out.body = text;
  }
  return out;
}

main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(out.status >= 200 && out.status < 300 ? 0 : 1);
  },
  (e) => fail(describe(e)),
);
