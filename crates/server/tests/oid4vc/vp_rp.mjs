// The relying party half shared by vp_selftest.mjs and vp_verifier.mjs: an outside OpenID4VP 1.0
// verifier (HAIP profile: x509_hash client identifier, signed request object by reference,
// DCQL, dc+sd-jwt with key binding, direct_post or direct_post.jwt), made of the OpenWallet
// Foundation libraries (`@openid4vc/openid4vp` to make the request object and to parse and
// validate the response, `dcql` to match the presentation against the query,
// `@sd-jwt/sd-jwt-vc` to verify the issuer signature, the disclosures and the key binding JWT)
// with `jose`, node's crypto and `openssl` (the self-signed certificate) for their callbacks.
// Not a script of its own: `import { startVerifier } from './vp_rp.mjs'`.
//
// startVerifier({dir, host, port}) serves on http://host:port
//   GET  /oid4vp/requests/{id}   the request object (application/oauth-authz-req+jwt)
//   POST /oid4vp/responses/{id}  the wallet's response: 200 {} when valid (or an
//        access_denied refusal), else 400 {"error","error_description","code"}; once per request.
// and returns {base, clientId, x509Hash, newRequest({mode, vct, claims, issuerVerifier}), close()};
// newRequest returns {id, url, payload, jwt, result} where `result` is a promise of the
// verdict {valid, refused?, code?, error?, claims?, disclosed?, kb?} for the first response.

import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The packages of `dir` (ELICENSE_OID4VC_DIR), loaded by import() (some are ES modules only). */
export async function loadPackages(dir) {
  const require = createRequire(join(resolve(dir), 'package.json'));
  const load = (name) => import(pathToFileURL(require.resolve(name)).href);
  const pkgs = {
    vp: await load('@openid4vc/openid4vp'),
    utils: await load('@openid4vc/utils'),
    dcql: await load('dcql'),
    jose: await load('jose'),
    sdjwtvc: await load('@sd-jwt/sd-jwt-vc'),
    crypto: await load('@sd-jwt/crypto-nodejs'),
  };
  // Everything runs on http://127.0.0.1 here; the library accepts only https:// otherwise.
  pkgs.utils.setGlobalConfig({ allowInsecureUrls: true });
  return pkgs;
}

/** A fresh self-signed P-256 certificate (by openssl) and its key. */
export function makeCertificate(subject = '/CN=elicense interop verifier') {
  const tmp = mkdtempSync(join(tmpdir(), 'vp-rp-'));
  try {
    const key = join(tmp, 'key.pem');
    const cert = join(tmp, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key,
        '-out', cert, '-days', '2', '-subj', subject, '-addext', 'subjectAltName=DNS:localhost'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const der = Buffer.from(
      readFileSync(cert, 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''),
      'base64',
    );
    return { der, x5c: der.toString('base64'), privateKey: createPrivateKey(readFileSync(key)) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A library `Verifier` for issuer signatures over a JWKS: the key the header's kid names. */
export function jwksVerifier(crypto, jwks) {
  return async (data, signature) => {
    const header = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8'));
    const jwk = jwks.keys.find((k) => header.kid === undefined || k.kid === header.kid);
    if (!jwk) throw new Error(`no issuer key ${header.kid}`);
    return (await keyVerifier(crypto, header.alg, jwk))(data, signature);
  };
}

/** A WebCrypto verifier of one key for ES256 or EdDSA (what WebCrypto knows; not SM2). */
async function keyVerifier(crypto, alg, jwk) {
  const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  if (jwk.y !== undefined) pub.y = jwk.y;
  if (alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256') return crypto.ES256.getVerifier(pub);
  if (alg === 'EdDSA' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    return crypto.getVerifier(pub, { name: 'Ed25519' }, { name: 'Ed25519' });
  }
  throw new Error(`unsupported alg ${alg} for a ${jwk.kty}/${jwk.crv} key`);
}

/** A verdict that refuses, with a stable code (throw it from an issuerVerifier too). */
export class Refused extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** A readable message of an error (with the library's OAuth error description). */
export function describe(e) {
  const parts = [String(e && e.message ? e.message : e)];
  const desc = e?.errorResponse?.error_description;
  if (desc && !parts[0].includes(desc)) parts.push(desc);
  if (e?.cause?.message && !parts.join(' ').includes(e.cause.message)) parts.push(e.cause.message);
  return parts.join(': ');
}

export async function startVerifier({ dir, host = '127.0.0.1', port = 0 }) {
  const P = await loadPackages(dir);
  const { vp, jose } = P;
  const { DcqlQuery, DcqlPresentationResult } = P.dcql;
  const cert = makeCertificate();
  const x509Hash = await vp.calculateX509HashClientIdPrefixValue({
    x509Certificate: cert.x5c,
    hash: (data) => new Uint8Array(createHash('sha256').update(data).digest()),
  });
  const clientId = `x509_hash:${x509Hash}`;
  const requests = new Map();

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => reply(res, 500, { error: 'server_error', error_description: describe(e) }));
  });
  await new Promise((ok) => server.listen(port, host, ok));
  const base = `http://${host}:${server.address().port}`;

  function reply(res, status, body, type = 'application/json') {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  async function handle(req, res) {
    const url = new URL(req.url, base);
    let m = url.pathname.match(/^\/oid4vp\/requests\/([\w-]+)$/);
    if (m && req.method === 'GET') {
      const r = requests.get(m[1]);
      if (!r) return reply(res, 404, { error: 'not_found' });
      return reply(res, 200, r.jwt, 'application/oauth-authz-req+jwt');
    }
    m = url.pathname.match(/^\/oid4vp\/responses\/([\w-]+)$/);
    if (m && req.method === 'POST') {
      const r = requests.get(m[1]);
      if (!r) return reply(res, 404, { error: 'invalid_request', error_description: 'unknown request', code: 'unknown_request' });
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks).toString('utf8');
      let verdict;
      if (r.used) {
        verdict = { valid: false, code: 'already_used', error: 'this request was answered already' };
      } else {
        r.used = true;
        verdict = await validate(r, req.headers['content-type'] || '', body);
        r.settle(verdict);
      }
      if (verdict.valid || verdict.refused) return reply(res, 200, {});
      return reply(res, 400, { error: 'invalid_request', error_description: verdict.error, code: verdict.code });
    }
    return reply(res, 404, { error: 'not_found' });
  }

  /** Checks one response against its request; the verdict, never a throw. */
  async function validate(r, type, body) {
    const out = { valid: false };
    try {
      if (!type.startsWith('application/x-www-form-urlencoded')) {
        throw new Refused('bad_response', `content type ${type}`);
      }
      const form = Object.fromEntries(new URLSearchParams(body));
      if (form.error) {
        if (r.payload.state !== undefined && form.state !== r.payload.state) {
          throw new Refused('state', `the refusal's state ${form.state} is not the request's`);
        }
        return { valid: false, refused: true, error: form.error, error_description: form.error_description };
      }
      // The library: JWE (direct_post.jwt) decrypted by our callback, the response parsed,
      // its state checked against the request's, the vp_token split by credential query.
      let parsed;
      try {
        parsed = await vp.parseOpenid4vpAuthorizationResponse({
          authorizationResponse: form,
          authorizationRequestPayload: r.payload,
          callbacks: { decryptJwe: (jwe) => decrypt(r, jwe) },
        });
      } catch (e) {
        // Our own callback's refusal, through the library's wrapping.
        for (let c = e; c; c = c.cause) if (c instanceof Refused) throw c;
        const msg = describe(e);
        throw new Refused(/state mismatch/i.test(msg) ? 'state' : /decrypt/i.test(msg) ? 'jwe' : 'bad_response', msg);
      }
      if (parsed.type !== 'dcql') throw new Refused('bad_response', 'not a DCQL response');
      const query = DcqlQuery.parse(r.payload.dcql_query);
      const presented = {};
      out.claims = {};
      out.disclosed = [];
      for (const cq of query.credentials) {
        const list = parsed.dcql.presentations[cq.id];
        if (!list) continue;
        if (list.length !== 1 || typeof list[0] !== 'string') {
          throw new Refused('bad_response', `vp_token.${cq.id} is not one SD-JWT presentation`);
        }
        const checked = await checkPresentation(r, list[0]);
        Object.assign(out.claims, checked.claims);
        out.disclosed.push(...checked.disclosed);
        out.kb = checked.kb;
        // Data minimisation (HAIP): only the claims the query asked for may be disclosed.
        const asked = new Set((cq.claims ?? []).map((c) => c.path[0]));
        const extra = checked.disclosed.filter((k) => !asked.has(k));
        if (extra.length) throw new Refused('extra_claim', `disclosed claims not asked for: ${extra.join(', ')}`);
        presented[cq.id] = [
          { credential_format: 'dc+sd-jwt', vct: checked.claims.vct, claims: checked.claims, cryptographic_holder_binding: true },
        ];
      }
      const result = DcqlPresentationResult.fromDcqlPresentation(presented, { dcqlQuery: query });
      if (!result.can_be_satisfied) {
        throw new Refused('dcql_unsatisfied', 'the presentations do not satisfy the dcql_query');
      }
      out.valid = true;
      return out;
    } catch (e) {
      out.valid = false;
      out.code = e instanceof Refused ? e.code : 'internal';
      out.error = describe(e);
      return out;
    }
  }

  /** The library's JWE callback: ECDH-ES to our encryption key, alg/enc/kid as announced. */
  async function decrypt(r, jwe) {
    if (!r.enc) return { decrypted: false };
    const header = jose.decodeProtectedHeader(jwe);
    if (header.alg !== 'ECDH-ES' || !['A128GCM', 'A256GCM'].includes(header.enc) || header.kid !== r.enc.public.kid) {
      throw new Refused('jwe', `JWE header ${JSON.stringify(header)}`);
    }
    const { plaintext } = await jose.compactDecrypt(jwe, r.enc.privateKey);
    r.jweHeader = header;
    return { decrypted: true, decryptionJwk: r.enc.public, payload: new TextDecoder().decode(plaintext) };
  }

  /**
   * One dc+sd-jwt presentation: the issuer signature and disclosures, then the key binding JWT
   * (signature by the credential's cnf key, nonce, sd_hash by the library; aud and iat here).
   */
  async function checkPresentation(r, presentation) {
    const crypto = P.crypto;
    const sdjwt = new P.sdjwtvc.SDJwtVcInstance({
      hasher: crypto.digest,
      verifier: r.issuerVerifier,
      kbVerifier: async (data, sig, payload) => {
        const jwk = payload?.cnf?.jwk;
        if (!jwk) throw new Refused('kb_signature', 'the credential has no cnf.jwk');
        const kbAlg = JSON.parse(Buffer.from(data.split('.')[0], 'base64url').toString('utf8')).alg;
        return (await keyVerifier(crypto, kbAlg, jwk))(data, sig);
      },
    });
    try {
      await sdjwt.validate(presentation);
    } catch (e) {
      for (let c = e; c; c = c.cause) if (c instanceof Refused) throw c;
      throw new Refused('issuer_signature', describe(e));
    }
    const decoded = await sdjwt.decode(presentation);
    if (!decoded.kbJwt) throw new Refused('kb_missing', 'the presentation has no key binding JWT');
    let verified;
    try {
      verified = await sdjwt.verify(presentation, { keyBindingNonce: r.payload.nonce });
    } catch (e) {
      const msg = describe(e);
      throw new Refused(/nonce/i.test(msg) ? 'kb_nonce' : /sd_hash/i.test(msg) ? 'kb_sd_hash' : 'kb_signature', msg);
    }
    const kb = verified.kb.payload;
    if (kb.aud !== r.payload.client_id) throw new Refused('kb_aud', `KB-JWT aud ${JSON.stringify(kb.aud)} is not ${r.payload.client_id}`);
    const now = Math.floor(Date.now() / 1000);
    if (typeof kb.iat !== 'number' || Math.abs(now - kb.iat) > 300) throw new Refused('kb_iat', `KB-JWT iat ${kb.iat}`);
    const claims = { ...verified.payload };
    const disclosed = decoded.disclosures.filter((d) => d.key !== undefined).map((d) => d.key);
    return { claims, disclosed, kb };
  }

  /** Signs a request object with the certificate's key (the library's signJwt callback). */
  async function signJwt(signer, { header, payload }) {
    const jws = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header)
      .sign(cert.privateKey);
    return { jwt: jws, signerJwk: await jose.exportJWK(cert.privateKey).then(({ d, ...pub }) => pub) };
  }

  async function newRequest({ mode = 'direct_post', vct, claims, issuerVerifier }) {
    const id = randomUUID();
    const r = { id, used: false, issuerVerifier };
    r.result = new Promise((ok) => {
      r.settle = ok;
    });
    const clientMetadata = {
      vp_formats_supported: {
        'dc+sd-jwt': { 'sd-jwt_alg_values': ['ES256', 'EdDSA', 'SM2'], 'kb-jwt_alg_values': ['ES256', 'EdDSA'] },
      },
    };
    if (mode === 'direct_post.jwt') {
      const { publicKey, privateKey } = await jose.generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const pub = { ...(await jose.exportJWK(publicKey)), use: 'enc', alg: 'ECDH-ES', kid: `enc-${id.slice(0, 8)}` };
      r.enc = { public: pub, privateKey };
      clientMetadata.jwks = { keys: [pub] };
      clientMetadata.encrypted_response_enc_values_supported = ['A128GCM', 'A256GCM'];
    }
    const requestUri = `${base}/oid4vp/requests/${id}`;
    const made = await vp.createOpenid4vpAuthorizationRequest({
      authorizationRequestPayload: {
        client_id: clientId,
        response_type: 'vp_token',
        response_mode: mode,
        response_uri: `${base}/oid4vp/responses/${id}`,
        nonce: jose.base64url.encode(randomBytes(24)),
        state: jose.base64url.encode(randomBytes(24)),
        dcql_query: {
          credentials: [
            { id: 'license', format: 'dc+sd-jwt', meta: { vct_values: [vct] }, claims: claims.map((c) => ({ path: [c] })) },
          ],
        },
        client_metadata: clientMetadata,
      },
      jar: {
        requestUri,
        jwtSigner: { method: 'x5c', x5c: [cert.x5c], alg: 'ES256' },
        additionalJwtPayload: { aud: 'https://self-issued.me/v2' },
        expiresInSeconds: 600,
      },
      callbacks: { signJwt },
    });
    r.payload = made.authorizationRequestPayload;
    r.jwt = made.jar.authorizationRequestJwt;
    requests.set(id, r);
    return { id, url: made.authorizationRequest, payload: r.payload, jwt: r.jwt, result: r.result, request: r };
  }

  /**
   * For negative tests: signs request `r` again (the certificate's key, so the signature is
   * good) with `changes` to its payload and its header; returns the new `openid4vp://` URL.
   */
  async function resign(r, changes, headerChanges = {}) {
    const [h, p] = r.jwt.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
    const payload = { ...p, ...changes };
    r.jwt = (await signJwt(null, { header: { ...h, ...headerChanges }, payload })).jwt;
    const url = new URL('openid4vp://');
    url.search = new URLSearchParams({ client_id: payload.client_id, request_uri: `${base}/oid4vp/requests/${r.id}` }).toString();
    return url.toString();
  }

  return {
    base,
    clientId,
    x509Hash,
    packages: P,
    newRequest,
    resign,
    close: () => new Promise((ok) => server.close(ok)),
  };
}
