// Sealing a PDF from the wallet's seal page (/wallet/seals): the chosen file is posted as it
// is to POST /api/v1/seals/{id}/documents with the session's CSRF token; the sealed PDF comes
// back and is offered as a download. Nothing is kept in the browser.
(function () {
  "use strict";
  const form = document.getElementById("seal-form");
  if (!form) return;
  const tokenMeta = document.querySelector('meta[name="csrf-token"]');
  const token = tokenMeta ? tokenMeta.content : "";
  const errorBox = document.getElementById("seal-error");
  const done = document.getElementById("seal-done");
  const link = document.getElementById("seal-download");

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    errorBox.hidden = true;
    done.hidden = true;
    const file = form.querySelector("#seal-file").files[0];
    if (!file) return;
    const seal = form.querySelector("#seal-choice").value;
    const query = new URLSearchParams({
      page: form.querySelector("#seal-page").value || "1",
      purpose: form.querySelector("#seal-purpose").value || "",
    });
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const resp = await fetch("/api/v1/seals/" + encodeURIComponent(seal) + "/documents?" + query, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": "application/pdf", "x-csrf-token": token },
        body: file,
      });
      if (!resp.ok) {
        const json = await resp.json().catch(() => ({}));
        const e = (json && json.error) || { code: "http." + resp.status, message: resp.statusText };
        throw new Error(e.code + ": " + e.message);
      }
      const blob = await resp.blob();
      link.href = URL.createObjectURL(blob);
      link.download = file.name.replace(/\.pdf$/i, "") + "-sealed.pdf";
      done.dataset.size = String(blob.size);
      done.hidden = false;
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
})();
