// Click (or Enter/Space on) a flagged sentence to show why it was flagged; print shows all.
(function () {
  function toggle(sentence) {
    var box = document.getElementById(sentence.getAttribute("aria-controls"));
    if (!box) { return; }
    box.hidden = !box.hidden;
    sentence.setAttribute("aria-expanded", String(!box.hidden));
  }
  document.querySelectorAll(".s.flag").forEach(function (sentence) {
    sentence.addEventListener("click", function () { toggle(sentence); });
    sentence.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); toggle(sentence); }
    });
  });
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
