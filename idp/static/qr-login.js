/* QR code login: the login page's "扫码登录" tab (#tab-qr).
 *
 * Opens a ticket (POST /login/qr with the page's CSRF token), shows its QR code
 * (GET /login/qr/{ticket}.svg), and polls GET /login/qr/{ticket} every 1.5 s. The state is shown
 * in words taken from the panel's data-text-* attributes (the server translated them):
 * created → scanned → confirmed (the complete form is submitted, so the provider's redirect is
 * followed) or cancelled / expired (the QR code fades and #qr-refresh opens a new ticket).
 * No inline script (CSP); stable ids: #qr-panel, #qr-image, #qr-status, #qr-device,
 * #qr-refresh, #qr-error, #qr-form.
 */
(function () {
  "use strict";

  var panel = document.getElementById("qr-panel");
  if (!panel) return;
  var image = document.getElementById("qr-image");
  var status = document.getElementById("qr-status");
  var deviceLine = document.getElementById("qr-device");
  var refresh = document.getElementById("qr-refresh");
  var errorBox = document.getElementById("qr-error");
  var form = document.getElementById("qr-form");

  var POLL_MS = 1500;
  var MAX_POLL_ERRORS = 5;
  var ticket = null;
  var timer = null;
  var generation = 0;
  var pollErrors = 0;

  function text(state) {
    return panel.getAttribute("data-text-" + state) || state;
  }

  function stop() {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
  }

  function show(state, deviceName) {
    panel.setAttribute("data-state", state);
    status.setAttribute("data-state", state);
    status.textContent = text(state);
    if ((state === "scanned" || state === "confirmed") && deviceName) {
      deviceLine.textContent = text("device").replace("{name}", deviceName);
      deviceLine.hidden = false;
    } else {
      deviceLine.hidden = true;
    }
    refresh.hidden = !(state === "cancelled" || state === "expired" || state === "failed");
  }

  function fail() {
    stop();
    show("failed");
    errorBox.textContent = text("failed");
    errorBox.hidden = false;
  }

  function complete() {
    stop();
    form.setAttribute("action", "/login/qr/" + encodeURIComponent(ticket) + "/complete");
    form.submit();
  }

  function poll(mine) {
    if (mine !== generation) return;
    fetch("/login/qr/" + encodeURIComponent(ticket), {
      method: "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 404) return { state: "expired" };
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (answer) {
      if (mine !== generation) return;
      pollErrors = 0;
      var state = answer && answer.state;
      show(state, answer && answer.device_name);
      if (state === "confirmed") {
        complete();
      } else if (state === "created" || state === "scanned") {
        timer = window.setTimeout(function () { poll(mine); }, POLL_MS);
      } else {
        stop();
      }
    }).catch(function () {
      if (mine !== generation) return;
      pollErrors += 1;
      if (pollErrors >= MAX_POLL_ERRORS) fail();
      else timer = window.setTimeout(function () { poll(mine); }, POLL_MS);
    });
  }

  function open() {
    stop();
    generation += 1;
    var mine = generation;
    pollErrors = 0;
    errorBox.hidden = true;
    refresh.hidden = true;
    var body = new URLSearchParams();
    body.set("rid", panel.getAttribute("data-rid") || "");
    if (panel.getAttribute("data-next")) body.set("next", panel.getAttribute("data-next"));
    fetch(panel.getAttribute("data-open-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRF-Token": panel.getAttribute("data-csrf"),
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: body.toString()
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (answer) {
      if (mine !== generation) return;
      ticket = answer.ticket;
      panel.setAttribute("data-ticket", ticket);
      image.src = "/login/qr/" + encodeURIComponent(ticket) + ".svg";
      image.hidden = false;
      show("created");
      timer = window.setTimeout(function () { poll(mine); }, POLL_MS);
    }).catch(function () {
      if (mine === generation) fail();
    });
  }

  refresh.addEventListener("click", open);
  open();
})();
