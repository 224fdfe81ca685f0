/* Certificate login (and "take the certificate from the bridge" on /account/certificates).
 *
 * Loaded after /assets/huren-bridge.js (the local bridge's client). The login page: ask the
 * provider for a one-time challenge, have the bridge sign it with the chosen certificate's key,
 * and POST the result as an ordinary form so the provider's redirect is followed. No inline
 * script (CSP); stable element ids: #tab-cert, #cert-list, #cert-sign, #bridge-help, #cert-error.
 */
(function () {
  "use strict";

  var zh = (document.documentElement.lang || "").toLowerCase().indexOf("zh") === 0;
  var list = document.getElementById("cert-list");
  var help = document.getElementById("bridge-help");
  var errorBox = document.getElementById("cert-error");
  var loginPanel = document.getElementById("cert-panel");
  var bindPanel = document.getElementById("bind-bridge");
  if (!list || (!loginPanel && !bindPanel)) return;

  function text(zhText, enText) { return zh ? zhText : enText; }

  function message(err) {
    if (!err) return text("未知错误", "Unknown error");
    return (zh ? err.messageZh : err.messageEn) || err.message || String(err);
  }

  function showError(msg) {
    errorBox.textContent = msg;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function showHelp(err) {
    var h = err && err.help;
    var msg = "";
    if (typeof h === "string") msg = h;
    else if (h && typeof h === "object") msg = (zh ? h.messageZh || h.zh : h.messageEn || h.en) || h.text || "";
    if (!msg) {
      msg = text("未检测到本机的互认证书助手（Huren bridge）。请安装并启动后刷新本页。",
        "The Huren bridge is not running on this computer. Install and start it, then reload this page.");
    }
    help.textContent = msg;
    if (h && typeof h === "object" && h.url) {
      var a = document.createElement("a");
      a.href = h.url;
      a.textContent = " " + text("下载与安装说明", "Download and setup");
      a.rel = "noopener";
      help.appendChild(a);
    }
    help.hidden = false;
  }

  function notRunning(err) {
    return !!err && (err.code === "BridgeNotRunning" || err.name === "BridgeNotRunning" || !!err.help);
  }

  function certId(c) { return c.certificateId || c.id || c.fingerprint || ""; }

  // Only certificates whose key may sign can log in or be bound: a dual-key (SM2) USBKey also
  // holds an encryption certificate with the same subject, which the bridge refuses to sign with.
  function canSign(c) { return !Array.isArray(c.usage) || c.usage.indexOf("sign") >= 0; }

  function certLabel(c) {
    var label = c.subject || c.label || c.name || certId(c);
    if (c.issuer) label += " — " + c.issuer;
    var until = c.not_after || c.notAfter;
    if (until) label += " (" + text("有效期至 ", "valid until ") + String(until).slice(0, 10) + ")";
    return label;
  }

  var connection = null;
  var certificates = [];
  var action = document.getElementById(loginPanel ? "cert-sign" : "cert-pick");

  if (!window.HurenBridge) {
    showHelp(null);
    return;
  }

  // the provider's HUREN_BRIDGE_PORT (the bridge's --port); the client's default otherwise
  var port = Number((loginPanel || bindPanel).getAttribute("data-bridge-port")) || undefined;

  window.HurenBridge.connect({ port: port }).then(function (c) {
    connection = c;
    return c.certificates();
  }).then(function (certs) {
    certificates = (Array.isArray(certs) ? certs : (certs && certs.certificates) || []).filter(canSign);
    list.textContent = "";
    certificates.forEach(function (c) {
      var option = document.createElement("option");
      option.value = certId(c);
      option.textContent = certLabel(c);
      list.appendChild(option);
    });
    if (!certificates.length) {
      showError(text("未找到证书：请插入 USB Key 后刷新本页。", "No certificate found: insert your USB key and reload this page."));
      return;
    }
    list.disabled = false;
    action.disabled = false;
  }).catch(function (err) {
    if (notRunning(err)) showHelp(err); else showError(message(err));
  });

  function chosen() {
    var id = list.value;
    for (var i = 0; i < certificates.length; i++) if (certId(certificates[i]) === id) return certificates[i];
    return null;
  }

  function signIn() {
    clearError();
    action.disabled = true;
    var form = document.getElementById("cert-form");
    fetch(loginPanel.getAttribute("data-challenge-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": loginPanel.getAttribute("data-csrf"), "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) throw new Error(text("无法获取登录挑战，请刷新本页重试。", "Could not get a sign-in challenge; reload this page and retry."));
      return response.json();
    }).then(function (challenge) {
      return connection.sign({
        certificateId: list.value,
        data: challenge.challenge,
        format: "raw",
        purpose: "login"
      }).then(function (result) {
        form.elements.challenge_id.value = challenge.challenge_id;
        form.elements.data.value = challenge.challenge;
        form.elements.signature.value = result.signature;
        form.elements.certificate.value = result.certificate;
        form.elements.algorithm.value = result.algorithm || "";
        form.submit();
      });
    }).catch(function (err) {
      action.disabled = false;
      if (notRunning(err)) showHelp(err); else showError(message(err));
    });
  }

  function pick() {
    clearError();
    var c = chosen();
    var der = c && (c.certificate || c.der);
    var field = document.getElementById("bind-certificate");
    if (!der) {
      showError(text("该证书无法读取。", "This certificate cannot be read."));
      return;
    }
    field.value = der;
    document.getElementById("bind-form").submit();
  }

  action.addEventListener("click", loginPanel ? signIn : pick);
})();
