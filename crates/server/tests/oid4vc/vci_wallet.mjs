// An outside OpenID4VCI wallet, as another SD-JWT VC wallet would take a license its holder
// offered: `@openid4vc/openid4vci` (Openid4vciClient) for the protocol, `@openid4vc/oauth2`
// for the anonymous client, `jose` for the proof key and signatures (a fresh ES256 key), and
// `@sd-jwt/sd-jwt-vc` to check what it received. Nothing here comes from elicense: the wallet
// learns everything from the offer and the metadata the node publishes, and the issuer's keys
// from the SD-JWT VC issuer metadata (`/.well-known/jwt-vc-issuer` + the path of `iss`).
//
// Usage: ELICENSE_OID4VC_DIR=.cache/oid4vc node vci_wallet.mjs --offer URI --tx-code CODE
//          [--wrong-tx-code CODE] [--replay]
// Steps: resolve the offer and the issuer and authorization server metadata; with
// --wrong-tx-code, first ask for a token with that code (and report the refusal); ask for a
// token with the right code; get a nonce; sign a JWT proof; get the credential and verify it;
// with --replay, then ask again with the same pre-authorized code and with the same access
// token (and report both refusals).
// Prints one JSON object on stdout:
//   {"ok":true, "credential_issuer", "configuration", "wrong_tx_code"?: {"error","code"},
//    "credential": {"iss","vct","alg","cnf_is_own_key","disclosures","status_checked"},
//    "replay_token"?: {"error","code"}, "replay_credential"?: {"error","code"}}
//   {"ok":false, "error":"..."}
// and exits 0 (ok), 1 (a step failed) or 2 (could not run).

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.ELICENSE_OID4VC_DIR;
if (!dir) {
  console.error('ELICENSE_OID4VC_DIR (the packages installed by scripts/deps.sh) is not set');
  process.exit(2);
}
/** Imports the ES module entry of an installed package (its `exports` "import" entry). */
async function load(name) {
  const base = join(resolve(dir), 'node_modules', name);
  const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
  const e = pkg.exports?.['.'];
  const entry = typeof e === 'string' ? e : (e?.import ?? e?.default ?? pkg.module ?? pkg.main);
  return import(pathToFileURL(join(base, entry)).href);
}
const { Openid4vciClient } = await load('@openid4vc/openid4vci');
const { clientAuthenticationAnonymous, setGlobalConfig } = await load('@openid4vc/oauth2');
const jose = await load('jose');
const { SDJwtVcInstance } = await load('@sd-jwt/sd-jwt-vc');
const { digest, getVerifier } = await load('@sd-jwt/crypto-nodejs');

const args = { replay: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--replay') args.replay = true;
  else if (a === '--offer') args.offer = process.argv[++i];
  else if (a === '--tx-code') args.txCode = process.argv[++i];
  else if (a === '--wrong-tx-code') args.wrongTxCode = process.argv[++i];
  else {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
}
if (!args.offer || !args.txCode) {
  console.error('--offer and --tx-code are required');
  process.exit(2);
}

// The node under test listens on http://127.0.0.1 (the library wants https otherwise).
setGlobalConfig({ allowInsecureUrls: true });

const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
const ownJwk = await jose.exportJWK(publicKey);

const HASHES = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

const client = new Openid4vciClient({
  callbacks: {
    hash: (data, alg) => createHash(HASHES[alg]).update(data).digest(),
    generateRandom: (n) => randomBytes(n),
    clientAuthentication: clientAuthenticationAnonymous(),
    // Only the proof is signed here, always with the wallet's own key.
    signJwt: async (signer, { header, payload }) => {
      if (signer.method !== 'jwk' || signer.alg !== 'ES256') {
        throw new Error(`cannot sign for ${signer.method} ${signer.alg}`);
      }
      const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey);
      return { jwt, signerJwk: signer.publicJwk };
    },
  },
});

/** The OAuth error of a refused request, from the library's error. */
function refusal(e) {
  const body = e?.errorResponse ?? e?.response?.credentialErrorResponseResult?.data;
  if (body?.error) return { error: body.error, code: body.code };
  throw e;
}

/** Expects `promise` to be refused; returns the refusal. */
async function refused(what, promise) {
  try {
    await promise;
  } catch (e) {
    return refusal(e);
  }
  throw new Error(`${what} was not refused`);
}

function segment(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/** The issuer's JWKS from its SD-JWT VC issuer metadata (SD-JWT VC §5). */
async function issuerKeys(iss) {
  const url = new URL(iss);
  const path = url.pathname === '/' ? '' : url.pathname;
  const at = `${url.origin}/.well-known/jwt-vc-issuer${path}`;
  const resp = await fetch(at);
  if (!resp.ok) throw new Error(`issuer metadata ${at}: HTTP ${resp.status}`);
  const meta = await resp.json();
  if (meta.issuer !== iss) throw new Error(`issuer metadata ${at} names ${meta.issuer}`);
  return meta.jwks.keys;
}

const WEBCRYPTO = {
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: { name: 'SHA-256' } }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

/** Verifies a JWS (the credential, the status list) with the issuer key its `kid` names. */
function keysVerifier(keys, seen) {
  return async (data, signature) => {
    const header = segment(data.split('.')[0]);
    const params = WEBCRYPTO[header.alg];
    const jwk = keys.find((k) => k.kid === header.kid);
    if (!params || !jwk) throw new Error(`no ${header.alg} key ${header.kid}`);
    seen.alg ??= header.alg;
    const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.y ? { y: jwk.y } : {}) };
    return (await getVerifier(pub, ...params))(data, signature);
  };
}

async function checkCredential(credential) {
  const payload = segment(credential.split('~')[0].split('.')[1]);
  const seen = {};
  let statusChecked = false;
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: keysVerifier(await issuerKeys(payload.iss), seen),
    statusValidator: async (value) => {
      statusChecked = true;
      if (value !== 0) throw new Error(`status is ${value}`);
    },
  });
  const result = await sdjwt.verify(credential);
  const cnf = result.payload.cnf?.jwk ?? {};
  const same = ['kty', 'crv', 'x', 'y'].every((k) => cnf[k] === ownJwk[k]);
  return {
    iss: result.payload.iss,
    vct: result.payload.vct,
    alg: seen.alg,
    cnf_is_own_key: same,
    disclosures: credential.split('~').filter((d, i) => i > 0 && d.length > 0).length,
    status_checked: statusChecked,
  };
}

async function main() {
  const out = { ok: false };
  const offer = await client.resolveCredentialOffer(args.offer);
  const metadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  out.credential_issuer = metadata.credentialIssuer.credential_issuer;
  const configuration = offer.credential_configuration_ids[0];
  out.configuration = configuration;
  if (args.wrongTxCode) {
    out.wrong_tx_code = await refused(
      'a wrong tx_code',
      client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer: offer,
        issuerMetadata: metadata,
        txCode: args.wrongTxCode,
      }),
    );
  }
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer,
    issuerMetadata: metadata,
    txCode: args.txCode,
  });
  const { c_nonce } = await client.requestNonce({ issuerMetadata: metadata });
  const proof = await client.createCredentialRequestJwtProof({
    issuerMetadata: metadata,
    credentialConfigurationId: configuration,
    nonce: c_nonce,
    issuedAt: new Date(),
    signer: { method: 'jwk', alg: 'ES256', publicJwk: ownJwk },
  });
  const request = {
    issuerMetadata: metadata,
    credentialConfigurationId: configuration,
    accessToken: accessTokenResponse.access_token,
  };
  const { credentialResponse } = await client.retrieveCredentials({
    ...request,
    proofs: { jwt: [proof.jwt ?? proof] },
  });
  const credential = credentialResponse.credentials[0].credential;
  out.credential = await checkCredential(credential);
  if (args.replay) {
    out.replay_token = await refused(
      'the same pre-authorized code again',
      client.retrievePreAuthorizedCodeAccessTokenFromOffer({
        credentialOffer: offer,
        issuerMetadata: metadata,
        txCode: args.txCode,
      }),
    );
    const again = await client.requestNonce({ issuerMetadata: metadata });
    const proof2 = await client.createCredentialRequestJwtProof({
      issuerMetadata: metadata,
      credentialConfigurationId: configuration,
      nonce: again.c_nonce,
      issuedAt: new Date(),
      signer: { method: 'jwk', alg: 'ES256', publicJwk: ownJwk },
    });
    out.replay_credential = await refused(
      'the same access token again',
      client.retrieveCredentials({ ...request, proofs: { jwt: [proof2.jwt ?? proof2] } }),
    );
  }
  out.ok = out.credential.cnf_is_own_key && out.credential.status_checked;
  return out;
}

main().then(
  (out) => {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(out.ok ? 0 : 1);
  },
  (e) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(e?.stack ?? e) })}\n`);
    process.exit(1);
  },
);
