// The answer to a counter's OpenID4VP request (the /wallet/vp page): on consent, the device
// key (device.js) is registered for each chosen license (one per part of the matter), the
// node prepares each presentation of exactly the fields asked for with a key-binding JWT for
// the request's nonce and the verifier, the device key signs it here, and the node posts the
// answer to the verifier.
(function () {
  "use strict";
  const form = document.getElementById("vp-form");
  if (!form) return;
  const device = window.elicenseDevice;
  // This node's request (by id), or another verifier's (its signed request object).
  const rid = form.dataset.request;
  const jar = form.dataset.jar;
  const done = document.getElementById("vp-done");
  const errorBox = document.getElementById("vp-error");
  const section = document.getElementById("vp-request");

  function fail(err) {
    errorBox.textContent = document.getElementById("msg-error").innerHTML + " " + err.message;
    errorBox.hidden = false;
    form.querySelector("button[type=submit]").disabled = false;
  }

  // One license per part of the matter (a joint matter asks for one of each type), each
  // presented with its own key-binding JWT; all parts are answered in one response.
  async function part(pair, base, identifier) {
    const bound = await device.post("/api/v1/wallet/licenses/" + identifier + "/binding",
      { jwk: await device.publicJwk(pair) });
    const prep = await device.post(base + "/prepare",
      { jar: jar, identifier: identifier, jkt: bound.jkt });
    return {
      identifier: identifier,
      presentation: prep.presentation,
      signing_input: prep.signing_input,
      signature: await device.sign(pair, prep.signing_input),
    };
  }

  async function consent() {
    const chosen = Array.from(form.querySelectorAll("fieldset[data-part]"))
      .map((f) => f.querySelector("input[type=radio]:checked"));
    if (chosen.length === 0 || chosen.some((c) => !c)) return;
    const pair = await device.key();
    const base = jar ? "/api/v1/wallet/vp-foreign" : "/api/v1/wallet/vp/" + rid;
    const parts = [];
    for (const c of chosen) parts.push(await part(pair, base, c.value));
    const body = Object.assign({ jar: jar }, parts[0]);
    if (parts.length > 1) body.more = parts.slice(1);
    const ack = await device.post(base + "/answer", body);
    section.hidden = true;
    errorBox.hidden = true;
    done.dataset.outcome = ack.outcome;
    done.hidden = false;
  }

  if (!device.supported) {
    errorBox.textContent = document.getElementById("msg-no-webcrypto").innerHTML;
    errorBox.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    return;
  }
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    form.querySelector("button[type=submit]").disabled = true;
    consent().catch(fail);
  });
})();
