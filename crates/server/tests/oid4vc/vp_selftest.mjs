// A self-contained check of vp_wallet.mjs before (and independently of) the node's verifier:
// an outside relying party (vp_rp.mjs: a fresh self-signed P-256 certificate by openssl, the
// request object by `@openid4vc/openid4vp`, the response checked by the same library, `dcql`
// and `@sd-jwt/sd-jwt-vc`) served by node:http on 127.0.0.1 (a random port), an SD-JWT VC
// issued here by `@sd-jwt/sd-jwt-vc` (ES256 issuer, holder bound by `cnf.jwk`), and the wallet
// run as a child process in each of its modes, for direct_post and direct_post.jwt; plus a
// replay (--save then --form), a response to another request (--submit-to), a distrusted
// verifier (--trust-x509-hash) and a request object with a broken signature.
//
// Usage: ELICENSE_OID4VC_DIR=.cache/oid4vc node vp_selftest.mjs [--verbose]
// Prints one line per case, `PASS|FAIL <response mode> <case>: <what was seen>`, then
// `N passed, M failed`; exits 0 when every case passed, 1 otherwise, 2 when it could not run.

import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jwksVerifier, startVerifier } from './vp_rp.mjs';

const dir = process.env.ELICENSE_OID4VC_DIR;
if (!dir) {
  console.error('ELICENSE_OID4VC_DIR (the packages installed by scripts/deps.sh) is not set');
  process.exit(2);
}
const verbose = process.argv.includes('--verbose');
const here = dirname(fileURLToPath(import.meta.url));
const VCT = 'urn:elicense:type:fishing';
const ASKED = ['holder_name', 'item_species', 'item_area'];

/** Runs the wallet; resolves {code, out} (its exit code and its one JSON line). */
function wallet(args) {
  return new Promise((ok) => {
    execFile(process.execPath, [join(here, 'vp_wallet.mjs'), ...args], { env: process.env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      let out;
      try {
        out = JSON.parse(stdout.trim().split('\n').pop());
      } catch {
        out = { unparsed: stdout, stderr };
      }
      if (verbose && stderr) console.error(stderr);
      ok({ code, out });
    });
  });
}

/**
 * Runs vp_verifier.mjs: resolves {first, wait} when it printed its first line (the URL);
 * `wait` resolves {code, out} (its exit code and its last JSON line).
 */
function verifier(args) {
  return new Promise((ok, bad) => {
    const child = spawn(process.execPath, [join(here, 'vp_verifier.mjs'), ...args], { env: process.env });
    let stdout = '';
    let stderr = '';
    let first = null;
    const done = new Promise((fin) => {
      child.on('close', (code) => {
        let out;
        try {
          out = JSON.parse(stdout.trim().split('\n').pop());
        } catch {
          out = { unparsed: stdout, stderr };
        }
        fin({ code, out });
      });
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      if (first === null && stdout.includes('\n')) {
        first = JSON.parse(stdout.split('\n')[0]);
        ok({ first, wait: () => done });
      }
    });
    child.on('error', bad);
    done.then(({ code, out }) => {
      if (first === null) ok({ first: out, wait: () => Promise.resolve({ code, out }) });
    });
  });
}

/** The gist of a verdict, for the report line. */
function brief(v) {
  if (!v) return 'none';
  const { valid, code, refused, error, claims } = v;
  return JSON.stringify(valid ? { valid, claims: Object.keys(claims).filter((k) => !['iss', 'iat', 'vct', 'cnf'].includes(k)) } : { valid, code, refused, error });
}

/** What each wallet mode must lead to: the wallet's exit code and the verifier's verdict. */
const EXPECT = {
  ok: { exit: 0, valid: true },
  extra: { exit: 1, code: 'extra_claim' },
  missing: { exit: 1, code: 'dcql_unsatisfied' },
  'wrong-nonce': { exit: 1, code: 'kb_nonce' },
  'wrong-aud': { exit: 1, code: 'kb_aud' },
  'no-kb': { exit: 1, code: 'kb_missing' },
  'wrong-state': { exit: 1, code: 'state' },
  refuse: { exit: 0, refused: true },
  'other-key': { exit: 1, code: 'kb_signature' },
};

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'vp-selftest-'));
  const rp = await startVerifier({ dir });
  const { crypto, sdjwtvc } = rp.packages;
  const results = [];
  const record = (mode, name, pass, seen) => {
    results.push(pass);
    console.log(`${pass ? 'PASS' : 'FAIL'} ${mode} ${name}: ${seen}`);
  };
  // The issuer's metadata (SD-JWT VC §5), for vp_verifier.mjs.
  const issuer = await crypto.ES256.generateKeyPair();
  let iss;
  const jwks = { keys: [{ ...issuer.publicKey, kid: 'selftest-1', key_ops: undefined, ext: undefined }] };
  const meta = createServer((req, res) => {
    if (req.url === '/.well-known/jwt-vc-issuer/issuers/selftest') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ issuer: iss, jwks }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((ok) => meta.listen(0, '127.0.0.1', ok));
  iss = `http://127.0.0.1:${meta.address().port}/issuers/selftest`;
  try {
    // The issuer and the holder, and a credential with the asked-for claims and one more.
    const holder = await crypto.ES256.generateKeyPair();
    const issuerVerifier = jwksVerifier(crypto, jwks);
    const credential = await new sdjwtvc.SDJwtVcInstance({
      signer: await crypto.ES256.getSigner(issuer.privateKey),
      signAlg: 'ES256',
      hasher: crypto.digest,
      hashAlg: 'sha-256',
      saltGenerator: crypto.generateSalt,
    }).issue(
      {
        iss,
        iat: Math.floor(Date.now() / 1000),
        vct: VCT,
        cnf: { jwk: holder.publicKey },
        holder_name: 'Zhang San',
        item_species: 'carp',
        item_area: 'Lake Tai',
        item_gear: 'rod',
      },
      { _sd: ['holder_name', 'item_species', 'item_area', 'item_gear'] },
      { header: { kid: 'selftest-1' } },
    );
    const credFile = join(tmp, 'credential.txt');
    const keyFile = join(tmp, 'holder.jwk');
    writeFileSync(credFile, credential);
    writeFileSync(keyFile, JSON.stringify(holder.privateKey));
    const common = ['--credential', credFile, '--holder-key', keyFile];
    const request = (mode) => rp.newRequest({ mode, vct: VCT, claims: ASKED, issuerVerifier });

    for (const responseMode of ['direct_post', 'direct_post.jwt']) {
      for (const [walletMode, want] of Object.entries(EXPECT)) {
        const req = await request(responseMode);
        const { code, out } = await wallet(['--url', req.url, ...common, '--mode', walletMode,
          `--trust-x509-hash=${rp.x509Hash}`]);
        const verdict = await Promise.race([req.result, new Promise((ok) => setTimeout(() => ok(null), 5000))]);
        let pass = code === want.exit && verdict !== null;
        if (pass && want.valid) {
          pass = verdict.valid === true
            && ASKED.every((c) => verdict.claims[c] !== undefined)
            && verdict.claims.item_gear === undefined
            && out.dcql?.can_be_satisfied === true
            && out.client_id === rp.clientId
            && out.client_id_prefix === 'x509_hash'
            && out.response_mode === responseMode
            && JSON.stringify([...out.disclosed].sort()) === JSON.stringify([...ASKED].sort())
            && out.status === 200;
          if (pass && responseMode === 'direct_post.jwt') {
            pass = req.request.jweHeader?.alg === 'ECDH-ES' && req.request.jweHeader?.enc === 'A128GCM';
          }
        } else if (pass && want.refused) {
          pass = verdict.refused === true && verdict.error === 'access_denied';
        } else if (pass) {
          pass = verdict.valid === false && verdict.code === want.code && out.body?.code === want.code && out.status === 400;
        }
        record(responseMode, walletMode, pass, `exit ${code}, verdict ${brief(verdict)}${pass && !verbose ? '' : `, wallet ${JSON.stringify(out)}`}`);
      }

      // A replay: the body of an accepted response, posted again.
      {
        const req = await request(responseMode);
        const saved = join(tmp, `saved-${responseMode}.form`);
        const first = await wallet(['--url', req.url, ...common, '--save', saved]);
        const again = await wallet(['--url', req.url, '--form', saved]);
        const blind = await wallet(['--url', req.url, '--form', saved, '--submit-to', req.payload.response_uri]);
        const verdict = await req.result;
        const pass = first.code === 0 && verdict.valid === true && again.code === 1 && again.out.body?.code === 'already_used'
          && blind.code === 1 && blind.out.body?.code === 'already_used' && blind.out.client_id === rp.clientId;
        record(responseMode, 'replay (--save, --form; --form --submit-to)', pass, `first exit ${first.code}, replays exit ${again.code}, ${blind.code} ${JSON.stringify(blind.out)}`);
      }

      // A response to one request posted to another request's response_uri.
      {
        const a = await request(responseMode);
        const b = await request(responseMode);
        const { code, out } = await wallet(['--url', a.url, ...common, '--submit-to', b.payload.response_uri]);
        const verdict = await b.result;
        const want = responseMode === 'direct_post.jwt' ? ['jwe', 'bad_response'] : ['state'];
        const pass = code === 1 && verdict.valid === false && want.includes(verdict.code);
        record(responseMode, 'submit-to another request', pass, `exit ${code}, verdict ${brief(verdict)}${pass ? '' : ` ${JSON.stringify(out)}`}`);
      }
    }

    // An issuer signature the wallet cannot check (SM2: it only presents), and a holder JWK
    // with kid/alg/use/key_ops: presented all the same; this verifier cannot check SM2.
    {
      const [jwt, ...rest] = credential.split('~');
      const [, body, sig] = jwt.split('.');
      const sm2 = [[Buffer.from(JSON.stringify({ alg: 'SM2', typ: 'dc+sd-jwt', kid: 'selftest-1' })).toString('base64url'), body, sig].join('.'), ...rest].join('~');
      const sm2File = join(tmp, 'sm2.txt');
      const fullKey = join(tmp, 'holder-full.jwk');
      writeFileSync(sm2File, sm2);
      writeFileSync(fullKey, JSON.stringify({ ...holder.privateKey, kid: 'holder-1', alg: 'ES256', use: 'sig', key_ops: ['sign'] }));
      const req = await request('direct_post');
      const { code, out } = await wallet(['--url', req.url, '--credential', sm2File, '--holder-key', fullKey]);
      const verdict = await req.result;
      const pass = code === 1 && out.dcql?.can_be_satisfied === true && out.disclosed?.length === ASKED.length
        && verdict.code === 'issuer_signature' && /SM2/.test(verdict.error);
      record('direct_post', 'SM2 issuer, holder JWK with kid/alg/use', pass, `exit ${code}, verdict ${brief(verdict)}`);
    }

    // A verifier the holder does not trust: the wallet stops before posting anything.
    {
      const req = await request('direct_post');
      const { code, out } = await wallet(['--url', req.url, ...common, '--trust-x509-hash', 'AAAA']);
      const pass = code === 2 && /not the trusted/.test(out.error ?? '') && !req.request.used;
      record('-', 'distrusted x509_hash', pass, `exit ${code} ${JSON.stringify(out)}`);
    }
    // Request objects the wallet must refuse before posting anything: a broken signature; a
    // client_id that is not the certificate's hash (the library's x509_hash check); expired;
    // another typ; a response_uri that is not http(s).
    const now = Math.floor(Date.now() / 1000);
    for (const [name, change, want] of [
      ['broken request object signature', null, /verification of jwt/],
      ['client_id not the certificate hash', [{ client_id: `x509_hash:${'A'.repeat(43)}` }], /hash of the leaf x5c certificate/],
      ['expired request object', [{ iat: now - 900, exp: now - 600 }], /exp/],
      ['request object typ JWT', [{}, { typ: 'JWT' }], /typ/],
      ['response_uri not a URL', [{ response_uri: 'ftp:x' }], /response_uri|url/i],
    ]) {
      const req = await request('direct_post');
      let url = req.url;
      if (change) {
        url = await rp.resign(req.request, ...change);
      } else {
        const jwt = req.request.jwt;
        req.request.jwt = jwt.slice(0, -6) + (jwt.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
      }
      const { code, out } = await wallet(['--url', url, ...common]);
      const pass = code === 2 && /did not verify/.test(out.error ?? '') && want.test(out.error) && !req.request.used;
      record('-', name, pass, `exit ${code} ${JSON.stringify(out)}`);
    }

    // vp_verifier.mjs (the outside verifier for the node's wallet) against vp_wallet.mjs.
    for (const responseMode of ['direct_post', 'direct_post.jwt']) {
      for (const [name, trust, walletMode, want] of [
        ['valid', iss, 'ok', { exit: 0, valid: true }],
        ['issuer not trusted', 'http://127.0.0.1:1/issuers/other', 'ok', { exit: 1, code: 'issuer_untrusted' }],
        ['wallet refuses', iss, 'refuse', { exit: 1, code: 'refused' }],
        ['wrong nonce', iss, 'wrong-nonce', { exit: 1, code: 'kb_nonce' }],
      ]) {
        const v = await verifier(['--trust', trust, '--mode', responseMode, '--vct', VCT, '--claims', ASKED.join(','), '--timeout', '20']);
        const w = await wallet(['--url', v.first.url, ...common, '--mode', walletMode]);
        const { code, out } = await v.wait();
        let pass = code === want.exit && w.code === (want.valid || walletMode === 'refuse' ? 0 : 1);
        if (pass && want.valid) {
          pass = out.valid === true && out.iss === iss && out.vct === VCT
            && JSON.stringify(Object.keys(out.claims).sort()) === JSON.stringify([...ASKED].sort())
            && out.claims.item_species === 'carp' && out.kb?.aud === v.first.client_id;
        } else if (pass) {
          pass = out.valid === false && out.code === want.code;
        }
        record(responseMode, `vp_verifier.mjs: ${name}`, pass, `exit ${code} ${JSON.stringify(out)}, wallet exit ${w.code}`);
      }
    }
    {
      const v = await verifier(['--trust', iss, '--timeout', '1']);
      const { code, out } = await v.wait();
      const pass = code === 1 && out.code === 'timeout' && v.first.url.startsWith('openid4vp://?client_id=x509_hash%3A');
      record('-', 'vp_verifier.mjs: no response', pass, `exit ${code} ${JSON.stringify(out)}`);
    }
  } finally {
    await new Promise((ok) => meta.close(ok));
    await rp.close();
    rmSync(tmp, { recursive: true, force: true });
  }
  const failed = results.filter((p) => !p).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0;
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
