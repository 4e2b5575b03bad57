// Camera scanning of our QR labels. Uses the browser's own BarcodeDetector where it reads QR
// codes (Chrome on Android), else the barcode-detector polyfill (ZXing compiled to WebAssembly),
// loaded from static/ only when needed, with its .wasm file from static/ too: never a CDN.
//
// Each [data-scanner] element is one scanner. data-mode="go" opens what was scanned (the Scan
// page); data-mode="fill" puts the scanned code into the input named by data-target (a form's
// bin or item box), then stops the camera. The server says what a code is (/scan/read), so the
// rules for "is this one of our labels?" live in one place (inventory/labels/services.py).
(function () {
  "use strict";
  if (window.swagScanner) return;

  var detectorPromise = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  async function nativeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      var formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.indexOf("qr_code") === -1) return null;
      return new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (error) {
      return null;
    }
  }

  async function polyfillDetector(root) {
    if (!window.BarcodeDetectionAPI) await loadScript(root.dataset.polyfill);
    var api = window.BarcodeDetectionAPI;
    var wasm = root.dataset.wasm;
    await api.prepareZXingModule({
      overrides: {
        locateFile: function (path, prefix) { return path.endsWith(".wasm") ? wasm : prefix + path; }
      },
      fireImmediately: true
    });
    return new api.BarcodeDetector({ formats: ["qr_code"] });
  }

  function getDetector(root) {
    if (!detectorPromise) {
      detectorPromise = nativeDetector().then(function (detector) {
        if (detector) { window.swagScanner.engine = "native"; return detector; }
        window.swagScanner.engine = "polyfill";
        return polyfillDetector(root);
      });
      detectorPromise.catch(function () { detectorPromise = null; });
    }
    return detectorPromise;
  }

  function Scanner(root) {
    this.root = root;
    this.video = root.querySelector("video");
    this.statusLine = root.querySelector("[data-scanner-status]");
    this.errorLine = root.querySelector("[data-scanner-error]");
    this.toggle = root.querySelector("[data-scanner-toggle]");
    this.stream = null;
    this.running = false;
    this.busy = false;
    this.last = { text: null, at: 0 };
    var self = this;
    this.toggle.addEventListener("click", function () {
      if (self.running) { self.stop(); self.status("Camera stopped."); } else { self.start(); }
    });
  }

  Scanner.prototype.status = function (text) {
    this.statusLine.textContent = text;
  };

  // The camera's picture, hidden when there is no camera to show (the message says why).
  Scanner.prototype.view = function (shown) {
    this.root.querySelector(".scanner-view").hidden = !shown;
  };

  Scanner.prototype.error = function (text) {
    this.errorLine.textContent = text || "";
    this.errorLine.hidden = !text;
  };

  Scanner.prototype.start = async function () {
    if (this.running || this.starting) return;  // one camera stream per scanner
    this.starting = true;
    try { await this.open(); } finally { this.starting = false; }
  };

  Scanner.prototype.open = async function () {
    this.root.hidden = false;
    this.view(true);
    this.error("");
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.status("");
      this.view(false);
      this.error("This page can use the camera only over HTTPS. Type the code instead, " +
                 "or open the label with your phone's camera app.");
      return;
    }
    this.status("Starting the camera…");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }
      });
    } catch (error) {
      this.status("");
      this.view(false);
      this.error(error && error.name === "NotAllowedError"
        ? "The camera is blocked for this site. Allow it in the browser's settings, or type the code."
        : "No camera could be opened (" + (error && error.name || "error") + "). Type the code instead.");
      return;
    }
    this.video.srcObject = this.stream;
    try { await this.video.play(); } catch (error) { /* muted inline video plays; ignore a race with stop() */ }
    this.running = true;
    this.toggle.hidden = false;
    this.toggle.textContent = "Stop camera";
    var detector;
    try {
      detector = await getDetector(this.root);
    } catch (error) {
      this.stop();
      this.view(false);
      this.error("The QR reader could not be loaded. Type the code instead.");
      return;
    }
    this.root.dataset.engine = window.swagScanner.engine;
    this.status(this.root.dataset.expect === "bin" ? "Point the camera at the bin's label."
              : this.root.dataset.expect === "item" ? "Point the camera at the item's label."
              : "Point the camera at a bin or item label.");
    this.loop(detector);
  };

  Scanner.prototype.stop = function () {
    this.running = false;
    if (this.stream) this.stream.getTracks().forEach(function (track) { track.stop(); });
    this.stream = null;
    this.video.srcObject = null;
    this.toggle.textContent = "Start camera";
  };

  Scanner.prototype.loop = function (detector) {
    var self = this;
    async function tick() {
      if (!self.running) return;
      if (!self.busy && self.video.readyState >= 2 && self.video.videoWidth) {
        try {
          var codes = await detector.detect(self.video);
          for (var i = 0; i < codes.length && self.running; i++) await self.found(codes[i].rawValue);
        } catch (error) { /* a frame that cannot be read: try the next one */ }
      }
      if (self.running) window.setTimeout(tick, 120);
    }
    tick();
  };

  Scanner.prototype.found = async function (text) {
    var now = Date.now();
    if (this.busy || (text === this.last.text && now - this.last.at < 3000)) return;
    this.last = { text: text, at: now };
    this.busy = true;
    try {
      var url = this.root.dataset.readUrl + "?text=" + encodeURIComponent(text);
      if (this.root.dataset.expect) url += "&expect=" + encodeURIComponent(this.root.dataset.expect);
      var response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) { window.location.reload(); return; }  // logged out
      var answer = await response.json();
      if (this.root.dataset.mode === "go") {
        if (answer.url) {  // unknown labels open too: the page offers to search or create the bin
          this.stop();
          this.error("");
          this.status("Opening " + (answer.kind === "bin" ? "bin " : "") + answer.code + "…");
          window.location.assign(answer.url);
          return;
        }
        this.error(answer.error);
        return;
      }
      if (!response.ok) { this.error(answer.error); return; }
      var other = this.root.dataset.notSameAs && document.getElementById(this.root.dataset.notSameAs);
      if (other && other.value.trim().toUpperCase() === answer.code) {
        this.error("That is " + answer.code + ", the bin it comes from. Scan the label of the other bin.");
        return;
      }
      this.fill(answer);
    } catch (error) {
      this.error("Could not check that code (" + error.message + "). Try again or type it.");
    } finally {
      this.busy = false;
    }
  };

  Scanner.prototype.fill = function (answer) {
    var input = document.getElementById(this.root.dataset.target);
    input.value = answer.code;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
    this.stop();
    this.error("");
    this.root.hidden = true;
    var note = document.querySelector("[data-scanned-for='" + input.id + "']");
    if (note) note.textContent = "Scanned " + answer.code + (answer.name ? " · " + answer.name : "");
    // On to the next box still empty (the quantity, usually), else the submit button.
    var form = input.form, next = null;
    if (form) {
      var fields = Array.prototype.slice.call(form.querySelectorAll("input:not([type=hidden]), button[type=submit]"));
      next = fields.slice(fields.indexOf(input) + 1).filter(function (el) {
        return el.offsetParent !== null && (el.tagName === "BUTTON" || !el.value);
      })[0];
    }
    (next || input).focus();
  };

  var scanners = new Map();

  function scannerFor(root) {
    if (!scanners.has(root)) scanners.set(root, new Scanner(root));
    return scanners.get(root);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-scan-open]");
    if (!button) return;
    var root = document.getElementById(button.getAttribute("data-scan-open"));
    var scanner = scannerFor(root);
    if (scanner.running) { scanner.stop(); root.hidden = true; return; }
    scanners.forEach(function (other) { if (other !== scanner && other.running) { other.stop(); other.root.hidden = true; } });
    scanner.start();
    root.scrollIntoView({ block: "nearest" });
  });

  function startAutomatic() {
    document.querySelectorAll("[data-scanner][data-autostart='yes']").forEach(function (root) {
      scannerFor(root).start();
    });
  }

  // Free the camera when the page is hidden (another app, the lock screen, a new page) and take
  // it back when the page shows again, including from the back/forward cache.
  document.addEventListener("visibilitychange", function () {
    scanners.forEach(function (scanner) {
      if (document.hidden && scanner.running) { scanner.stop(); scanner.resume = true; }
      else if (!document.hidden && scanner.resume) { scanner.resume = false; scanner.start(); }
    });
  });
  window.addEventListener("pagehide", function () { scanners.forEach(function (s) { s.stop(); }); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) startAutomatic(); });

  window.swagScanner = { engine: null, scanners: scanners };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startAutomatic);
  else startAutomatic();
})();
