// Registration form: count down until another SMS code may be requested. The form works
// without this script; the server refuses an early request anyway.
(function () {
  "use strict";
  var button = document.getElementById("send-code");
  if (!button) {
    return;
  }
  var left = parseInt(button.getAttribute("data-resend-in") || "0", 10);
  if (!(left > 0)) {
    return;
  }
  var label = button.textContent;
  var wait = button.getAttribute("data-wait-label") || "{s}";
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.disabled = true;
    button.textContent = wait.replace("{s}", String(left));
    left -= 1;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
