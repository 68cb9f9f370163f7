// The present page: a device key (WebCrypto ECDSA P-256, non-extractable, kept in
// IndexedDB) signs a key-binding JWT over the fields the holder chose; the node keeps the
// presentation for 60 seconds and returns a QR code of its link; the page makes a fresh
// one before the old one ends, so a screenshot stops working.
(function () {
  "use strict";
  const form = document.getElementById("present-form");
  if (!form) return;
  const api = form.dataset.api;
  const out = document.getElementById("present-output");
  const qr = document.getElementById("qr");
  const link = document.getElementById("qr-link");
  const countdown = document.getElementById("qr-countdown");
  const errorBox = document.getElementById("present-error");
  const matter = document.getElementById("matter");
  let timer = null;
  let tick = null;

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
  async function deviceKey() {
    let pair = await idb("readonly", (s) => s.get("device"));
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      await idb("readwrite", (s) => s.put(pair, "device"));
    }
    return pair;
  }

  // The session's CSRF token, rendered by the node into the page (no inline script).
  const tokenMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = tokenMeta ? tokenMeta.content : "";

  async function post(path, body) {
    const resp = await fetch(api + path, {
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

  function chosen() {
    return Array.from(form.querySelectorAll("input[name=field]:checked")).map((i) => i.value);
  }

  function preselect() {
    const opt = matter.selectedOptions[0];
    const need = opt && opt.dataset.fields ? opt.dataset.fields.split(" ") : null;
    if (!need) return;
    form.querySelectorAll("input[name=field]").forEach((i) => (i.checked = need.includes(i.value)));
  }

  function fail(err) {
    stop();
    errorBox.textContent = document.getElementById("msg-error").innerHTML + " " + err.message;
    errorBox.hidden = false;
  }

  function stop() {
    clearTimeout(timer);
    clearInterval(tick);
    out.hidden = true;
    qr.innerHTML = "";
  }

  async function show() {
    const pair = await deviceKey();
    const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const bound = await post("/binding", { jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } });
    const m = matter.value || null;
    const prep = await post("/presentations/prepare", { jkt: bound.jkt, fields: chosen(), matter: m });
    const sig = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(prep.signing_input));
    const done = await post("/presentations", {
      id: prep.id, signature: b64url(sig),
    });
    qr.innerHTML = done.qr_svg;
    const svg = qr.querySelector("svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", done.url);
      svg.id = "qr-image";
    }
    qr.dataset.url = done.url;
    link.href = done.url;
    link.textContent = done.url;
    out.hidden = false;
    errorBox.hidden = true;
    let left = done.expires_in;
    countdown.textContent = String(left);
    clearInterval(tick);
    tick = setInterval(() => { left = Math.max(0, left - 1); countdown.textContent = String(left); }, 1000);
    clearTimeout(timer);
    // Refresh two seconds before the end, so the code on screen always verifies.
    timer = setTimeout(() => show().catch(fail), Math.max(1, left - 2) * 1000);
  }

  if (!window.crypto || !crypto.subtle || !window.indexedDB) {
    errorBox.textContent = document.getElementById("msg-no-webcrypto").innerHTML;
    errorBox.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    return;
  }
  matter.addEventListener("change", preselect);
  preselect();
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    show().catch(fail);
  });
  document.getElementById("present-stop").addEventListener("click", stop);
})();
