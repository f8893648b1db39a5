// "Copy link" on the appeal page: the button appears only with JS; without it the address stays in its field.
(function () {
  "use strict";
  function copy(field, status) {
    var done = function () { status.textContent = status.dataset.copied; };
    var fallback = function () {
      field.focus();
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      status.textContent = ok ? status.dataset.copied : status.dataset.failed;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (trigger) {
      var field = document.getElementById(trigger.dataset.copy);
      var status = field && field.parentNode.querySelector(".copy-status");
      if (!field || !status) { return; }
      trigger.hidden = false;
      trigger.addEventListener("click", function (event) {
        event.preventDefault();
        copy(field, status);
      });
    });
  });
})();
