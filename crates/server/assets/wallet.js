// The present page: the device key (device.js: WebCrypto ECDSA P-256, non-extractable, kept
// in IndexedDB) signs a key-binding JWT over the fields the holder chose; the node keeps the
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

  const device = window.elicenseDevice;
  const post = (path, body) => device.post(api + path, body);

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
    const pair = await device.key();
    const bound = await post("/binding", { jwk: await device.publicJwk(pair) });
    const m = matter.value || null;
    const prep = await post("/presentations/prepare", { jkt: bound.jkt, fields: chosen(), matter: m });
    const done = await post("/presentations", {
      id: prep.id, signature: await device.sign(pair, prep.signing_input),
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

  if (!device.supported) {
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
