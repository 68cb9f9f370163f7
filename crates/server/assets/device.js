// The wallet's device key, shared by the present page (wallet.js) and the answer to a
// counter's request (vp.js): a WebCrypto ECDSA P-256 key pair made once per browser, its
// private half never extractable, kept in IndexedDB. Also the CSRF-carrying JSON POST and
// base64url. Exposed as window.elicenseDevice.
(function () {
  "use strict";

  function b64url(buf) {
    let s = "";
    new Uint8Array(buf).forEach((b) => (s += String.fromCharCode(b)));
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function db() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("elicense-wallet", 1);
      req.onupgradeneeded = () => req.result.createObjectStore("keys");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  function idb(mode, fn) {
    return db().then((d) => new Promise((resolve, reject) => {
      const tx = d.transaction("keys", mode);
      const req = fn(tx.objectStore("keys"));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    }));
  }

  // The device key pair; made once, its private half never extractable.
  async function key() {
    let pair = await idb("readonly", (s) => s.get("device"));
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      await idb("readwrite", (s) => s.put(pair, "device"));
    }
    return pair;
  }

  // The public half as the node registers it.
  async function publicJwk(pair) {
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  }

  // base64url of the raw r‖s ES256 signature of `input` (a string).
  async function sign(pair, input) {
    const sig = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(input));
    return b64url(sig);
  }

  // The session's CSRF token, rendered by the node into the page (no inline script).
  const tokenMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = tokenMeta ? tokenMeta.content : "";

  async function post(url, body) {
    const resp = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrfToken },
      body: JSON.stringify(body),
    });
    const json = await resp.json().catch(() => ({}));
    if (!resp.ok) {
      const e = (json && json.error) || { code: "http." + resp.status, message: resp.statusText };
      throw new Error(e.code + ": " + e.message);
    }
    return json;
  }

  const supported = !!(window.crypto && crypto.subtle && window.indexedDB);

  window.elicenseDevice = { key, publicJwk, sign, post, supported };
})();
