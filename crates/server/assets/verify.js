// The verification form's camera scanner: BarcodeDetector where the browser has it (phones);
// elsewhere the page offers the photo upload, which the node decodes.
(function () {
  "use strict";
  const start = document.getElementById("scan-start");
  if (!start) return;
  const stopBtn = document.getElementById("scan-stop");
  const video = document.getElementById("scan-video");
  const unsupported = document.getElementById("scan-unsupported");
  let stream = null;
  let running = false;

  function stop() {
    running = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.hidden = true;
    stopBtn.hidden = true;
    start.hidden = false;
  }

  async function scan() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      unsupported.hidden = false;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (e) {
      unsupported.hidden = false;
      return;
    }
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    video.srcObject = stream;
    video.hidden = false;
    stopBtn.hidden = false;
    start.hidden = true;
    await video.play();
    running = true;
    while (running) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) {
        const text = codes[0].rawValue;
        stop();
        location.href = "/verify/go?identifier=" + encodeURIComponent(text);
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  start.addEventListener("click", scan);
  stopBtn.addEventListener("click", stop);
})();
