// The series form's "Add another month" without a round trip: copy the last month's row, renumber
// its fields (themes-N-…) and empty them. Without JavaScript the button re-shows the form from the
// server with one more row, so this is only a convenience.
(function () {
  "use strict";
  var form = document.querySelector("form.series-form");
  if (!form) return;
  var button = form.querySelector('[name="add_month"]');
  var max = parseInt(form.getAttribute("data-max-rows") || "24", 10);
  if (!button) return;
  button.addEventListener("click", function (event) {
    var rows = form.querySelectorAll("fieldset.series-month");
    if (!rows.length || rows.length >= max) return; // let the server say what it says
    event.preventDefault();
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var from = rows.length - 1, to = rows.length;
    var pattern = new RegExp("themes-" + from + "-", "g");
    copy.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.replace(pattern, "themes-" + to + "-"));
      });
    });
    copy.querySelectorAll("input[type=text], input:not([type])").forEach(function (el) { el.value = ""; });
    copy.querySelectorAll("input[type=checkbox]").forEach(function (el) { el.checked = false; });
    copy.querySelectorAll("option").forEach(function (el) { el.selected = false; });
    copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var legend = copy.querySelector("legend");
    var template = form.getAttribute("data-month-label");
    if (legend && template) legend.textContent = template.replace("__N__", String(to + 1));
    last.parentNode.insertBefore(copy, last.nextSibling);
    if (rows.length + 1 >= max) button.hidden = true;
    var first = copy.querySelector("input[type=text], input:not([type])");
    if (first) first.focus();
  });
})();
