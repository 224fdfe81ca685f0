/* The reference mobile web page of QR-code login (/m/ and /m/qr?t=TICKET).
 *
 * /m/: enroll this browser as a device: username + password (the provider sends an SMS code),
 * then the code; a WebCrypto ECDSA P-256 key pair is generated NON-extractable, its public key
 * (SubjectPublicKeyInfo, base64) registered, and the private CryptoKey kept in IndexedDB with
 * the device id. /m/qr?t=T: sign and send "scan", show who is asking (platform, browser IP,
 * user agent, time), then sign and send "confirm" or "cancel".
 *
 * Signed requests: body = compact JSON {device_id, ticket, action, nonce, ts}, header
 * X-Huren-Signature = base64 of the ECDSA P-256/SHA-256 signature (raw r||s, as WebCrypto
 * gives it) over exactly those bytes. The device API is called without cookies.
 * No inline script (CSP); texts come translated in #mobile-app's data-messages; stable ids:
 * #mobile-error, #qr-status, #request-details, #detail-*, #confirm-login, #cancel-login,
 * #qr-done, #enroll-link, #enroll-form, #code-form, #device-status, #forget-device.
 */
(function () {
  "use strict";

  var root = document.getElementById("mobile-app");
  if (!root) return;
  var texts = {};
  try { texts = JSON.parse(root.getAttribute("data-messages") || "{}"); } catch (e) { texts = {}; }
  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var api = root.getAttribute("data-api") || "/api/v1/mobile";
  var ticket = root.getAttribute("data-ticket") || "";
  var mode = root.getAttribute("data-mode");
  var errorBox = document.getElementById("mobile-error");

  var DB_NAME = "huren-mobile";
  var STORE = "devices";
  var RECORD = "current";

  function t(key, values) {
    var s = texts[key] || key;
    if (values) {
      Object.keys(values).forEach(function (k) { s = s.split("{" + k + "}").join(String(values[k])); });
    }
    return s;
  }

  function show(el, on) { if (el) el.hidden = !on; }

  function showError(err) {
    if (!errorBox) return;
    var message;
    if (err && err.code && texts["error." + err.code]) message = texts["error." + err.code];
    else if (err && err.server) message = (zh ? err.server.message_zh : err.server.message_en) || err.server.error_description;
    else if (err && err.code === "network") message = t("network");
    else message = (err && err.messageText) || t("error.unknown");
    errorBox.textContent = message;
    errorBox.setAttribute("data-code", (err && err.code) || "unknown");
    show(errorBox, true);
  }

  function clearError() {
    if (!errorBox) return;
    errorBox.textContent = "";
    errorBox.removeAttribute("data-code");
    show(errorBox, false);
  }

  function supported() {
    return !!(window.crypto && window.crypto.subtle && window.indexedDB && window.TextEncoder);
  }

  // -- IndexedDB: one record, the device -------------------------------------------------------

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = window.indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(modeName, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, modeName);
        var result;
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
        var request = work(tx.objectStore(STORE));
        request.onsuccess = function () { result = request.result; };
      });
    });
  }

  function loadDevice() {
    return withStore("readonly", function (store) { return store.get(RECORD); }).then(function (record) {
      return record && record.device_id && record.privateKey ? record : null;
    });
  }

  function saveDevice(record) {
    return withStore("readwrite", function (store) { return store.put(record, RECORD); });
  }

  function forgetDevice() {
    return withStore("readwrite", function (store) { return store.delete(RECORD); });
  }

  // -- encoding --------------------------------------------------------------------------------

  function base64(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return window.btoa(s);
  }

  function nonce() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // -- the device API --------------------------------------------------------------------------

  function post(path, body, headers) {
    var all = { "Content-Type": "application/json", "Accept": "application/json" };
    Object.keys(headers || {}).forEach(function (k) { all[k] = headers[k]; });
    return fetch(api + path, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: all,
      body: body
    }).catch(function () {
      throw { code: "network" };
    }).then(function (response) {
      return response.text().then(function (text) {
        var doc = null;
        try { doc = JSON.parse(text); } catch (e) { doc = null; }
        if (response.ok && doc && typeof doc === "object") return doc;
        if (doc && typeof doc.error === "string") throw { code: doc.error, server: doc, status: response.status };
        throw { code: "http_" + response.status, status: response.status };
      });
    });
  }

  function signed(device, action) {
    var body = JSON.stringify({
      device_id: device.device_id,
      ticket: ticket,
      action: action,
      nonce: nonce(),
      ts: Math.floor(Date.now() / 1000)
    });
    var data = new TextEncoder().encode(body);
    return window.crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, device.privateKey, data)
      .then(function (signature) {
        var path = "/qr/" + encodeURIComponent(ticket) + "/" + action;
        return post(path, body, { "X-Huren-Signature": base64(signature) });
      });
  }

  // -- /m/qr?t=T -------------------------------------------------------------------------------

  function when(value) {
    var date = typeof value === "number" ? new Date(value * 1000) : new Date(String(value || ""));
    if (isNaN(date.getTime())) return String(value || "?");
    return date.toLocaleString(zh ? "zh-CN" : "en-GB", { hour12: false });
  }

  function qrPage() {
    var status = document.getElementById("qr-status");
    var details = document.getElementById("request-details");
    var done = document.getElementById("qr-done");
    var enrollLink = document.getElementById("enroll-link");
    var confirmButton = document.getElementById("confirm-login");
    var cancelButton = document.getElementById("cancel-login");
    if (!ticket || !status) return;
    var device = null;

    // refusals after which this ticket or this device key is of no more use
    var FINAL = ["wrong_state", "ticket_expired", "ticket_not_found", "device_revoked", "bad_signature",
      "replayed", "invalid_request", "request_mismatch", "no_device", "no_webcrypto"];

    function fail(err) {
      status.textContent = "";
      show(status, false);
      showError(err);
      var code = (err && err.code) || "unknown";
      if (code === "device_revoked" || code === "bad_signature" || code === "no_device") {
        show(enrollLink, true);
      }
      // a network failure, a wrong clock or a busy server: the person may try again
      if (device && !details.hidden && FINAL.indexOf(code) < 0) {
        confirmButton.disabled = false;
        cancelButton.disabled = false;
      }
    }

    function finish(action) {
      clearError();
      confirmButton.disabled = true;
      cancelButton.disabled = true;
      status.textContent = t("working");
      show(status, true);
      signed(device, action).then(function (answer) {
        show(status, false);
        show(details, false);
        done.textContent = t(answer.state === "confirmed" ? "confirmed" : "cancelled");
        done.setAttribute("data-state", answer.state || action);
        show(done, true);
      }).catch(fail);
    }

    if (!supported()) { fail({ code: "no_webcrypto", messageText: t("no_webcrypto") }); return; }
    loadDevice().then(function (record) {
      if (!record) throw { code: "no_device", messageText: t("no_device") };
      device = record;
      status.textContent = t("scanning");
      return signed(device, "scan");
    }).then(function (answer) {
      var browser = answer.browser || {};
      document.getElementById("detail-client").textContent = answer.client_name || "?";
      document.getElementById("detail-ip").textContent = browser.ip || "?";
      document.getElementById("detail-ua").textContent = browser.user_agent || "?";
      document.getElementById("detail-time").textContent = when(browser.opened_at);
      document.getElementById("detail-expires").textContent =
        typeof answer.expires_in === "number" ? t("expires_in", { seconds: answer.expires_in }) : "?";
      status.textContent = t("scanned");
      show(details, true);
      confirmButton.disabled = false;
      cancelButton.disabled = false;
      confirmButton.addEventListener("click", function () { finish("confirm"); });
      cancelButton.addEventListener("click", function () { finish("cancel"); });
    }).catch(fail);
  }

  // -- /m/ -------------------------------------------------------------------------------------

  function enrollPage() {
    var enrollForm = document.getElementById("enroll-form");
    var codeForm = document.getElementById("code-form");
    var deviceStatus = document.getElementById("device-status");
    var notice = document.getElementById("mobile-notice");
    var continueLink = document.getElementById("continue-link");
    var enrollment = null;

    function say(text) { notice.textContent = text; show(notice, !!text); }

    function showDevice(record) {
      document.getElementById("device-summary").textContent =
        t("enrolled", { name: record.name || "", username: record.username || "" });
      deviceStatus.setAttribute("data-device-id", record.device_id);
      show(deviceStatus, true);
      show(continueLink, !!ticket);
      show(enrollForm, false);
      show(codeForm, false);
    }

    function showForm() {
      show(deviceStatus, false);
      show(codeForm, false);
      show(enrollForm, true);
    }

    if (!supported()) { showError({ code: "no_webcrypto", messageText: t("no_webcrypto") }); return; }

    enrollForm.addEventListener("submit", function (event) {
      event.preventDefault();
      clearError();
      say("");
      var button = document.getElementById("enroll-start");
      button.disabled = true;
      var username = document.getElementById("enroll-username").value.trim();
      var password = document.getElementById("enroll-password").value;
      post("/enroll", JSON.stringify({ username: username, password: password })).then(function (answer) {
        enrollment = { id: answer.enrollment, username: username };
        document.getElementById("enroll-password").value = "";
        say(t("code_sent", { phone: answer.phone || "" }));
        show(codeForm, true);
        document.getElementById("enroll-code").focus();
      }).catch(showError).then(function () { button.disabled = false; });
    });

    codeForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!enrollment) return;
      clearError();
      var button = document.getElementById("enroll-finish");
      button.disabled = true;
      var name = document.getElementById("enroll-name").value.trim() || t("default_device_name");
      var code = document.getElementById("enroll-code").value.trim();
      var pair = null;
      window.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
        .then(function (generated) {
          pair = generated;
          return window.crypto.subtle.exportKey("spki", pair.publicKey);
        }).then(function (spki) {
          var body = JSON.stringify({ code: code, public_key: base64(spki), name: name });
          return post("/enroll/" + encodeURIComponent(enrollment.id), body);
        }).then(function (answer) {
          var record = {
            device_id: answer.device_id,
            algorithm: answer.algorithm || "ES256",
            name: name,
            username: enrollment.username,
            issuer: window.location.origin,
            enrolled_at: Math.floor(Date.now() / 1000),
            privateKey: pair.privateKey
          };
          return saveDevice(record).then(function () { return record; });
        }).then(function (record) {
          enrollment = null;
          say(t("enroll_done"));
          showDevice(record);
        }).catch(function (err) {
          if (err && err.code === "enrollment_not_found") { enrollment = null; showForm(); }
          showError(err);
        }).then(function () { button.disabled = false; });
    });

    document.getElementById("forget-device").addEventListener("click", function () {
      if (!window.confirm(t("forget_question"))) return;
      forgetDevice().then(function () {
        say(t("forgotten"));
        showForm();
      }).catch(showError);
    });

    loadDevice().then(function (record) {
      if (record) showDevice(record); else showForm();
    }).catch(function () { showError({ code: "no_webcrypto", messageText: t("no_webcrypto") }); });
  }

  if (mode === "qr") qrPage();
  else if (mode === "enroll") enrollPage();
})();
