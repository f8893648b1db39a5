// Appeal editor: live preview, autosave of drafts, and a warning before leaving unsaved changes.
// The page works without this script (Preview and Save buttons); this only makes it faster.
(function () {
  "use strict";
  var form = document.getElementById("letter-form");
  if (!form) { return; }
  var previewBody = document.getElementById("preview-body");
  var status = document.getElementById("autosave-status");
  var previewUrl = form.getAttribute("data-preview-url");
  var autosaveUrl = form.getAttribute("data-autosave-url");
  // The words come from the page, in the interface language (the catalog's data-msg-* attributes).
  function msg(name) { return form.getAttribute("data-msg-" + name) || ""; }
  var dirty = false, submitting = false, previewTimer = null, saveTimer = null, inFlight = null;

  function post(url, accept) {
    var data = new FormData(form);
    data.delete("preview");
    data.delete("save");
    var token = form.querySelector("input[name=csrf_token]");
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.value : "", "Accept": accept}
    });
  }

  function refreshPreview() {
    if (inFlight) { inFlight.abort && inFlight.abort(); }
    post(previewUrl, "text/html").then(function (response) {
      if (response.ok) { return response.text(); }
      throw new Error(response.status);
    }).then(function (html) {
      previewBody.innerHTML = html;  // rendered and sanitized by the server's Markdown pipeline
    }).catch(function () { /* keep the last preview */ });
  }

  function autosave() {
    status.textContent = msg("saving");
    post(autosaveUrl, "application/json").then(function (response) {
      return response.json().then(function (body) { return {code: response.status, body: body}; });
    }).then(function (r) {
      if (r.code === 200) {
        form.querySelector("input[name=base_revision]").value = r.body.revision;
        dirty = false;
        status.textContent = r.body.saved ? msg("saved").replace("{n}", r.body.revision) : msg("unchanged");
      } else {
        status.textContent = r.body.error || msg("not-saved");
      }
    }).catch(function () { status.textContent = msg("offline"); });
  }

  form.addEventListener("input", function () {
    dirty = true;
    if (status) { status.textContent = msg("dirty"); }
    clearTimeout(previewTimer);
    previewTimer = setTimeout(refreshPreview, 400);
    if (autosaveUrl) {
      clearTimeout(saveTimer);
      saveTimer = setTimeout(autosave, 3000);
    }
  });
  form.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) { event.preventDefault(); event.returnValue = ""; }
  });
})();
