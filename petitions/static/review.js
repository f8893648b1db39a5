// "All on this page" ticks every signature of the review queue; without JavaScript each box still works.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll('#bulk input[name="ids"]').forEach((box) => { box.checked = all.checked; });
  });
});
