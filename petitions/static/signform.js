// Show only the fields that fit the chosen kind of signer; without this script the form shows both.
(function () {
  "use strict";
  var form = document.querySelector("form input[name='kind']") && document.querySelector("input[name='kind']").form;
  if (!form) return;
  function update() {
    var chosen = form.querySelector("input[name='kind']:checked");
    var kind = chosen ? chosen.value : "person";
    form.querySelectorAll("[data-signer-kind]").forEach(function (box) {
      box.hidden = box.getAttribute("data-signer-kind") !== kind;
    });
  }
  form.querySelectorAll("input[name='kind']").forEach(function (input) {
    input.addEventListener("change", update);
  });
  update();
}());
