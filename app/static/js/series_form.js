// The series form's conveniences; without JavaScript every button works through the server.
// 1. "Add another month" without a round trip: copy the last month's row, renumber its fields
//    (themes-N-…) and empty them (without the script the server re-shows the form with one more row).
// 2. The preview of the coming dates follows the form: after a change (half a second quiet) or on
//    "Preview the dates", the form is posted to the server's preview (POST /series/preview, an HTML
//    fragment rendered by the server, so zones and daylight saving are worked out in one place) and
//    put under the form. Nothing is saved; "Create series" still submits the form.
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

(function () {
  "use strict";
  var form = document.querySelector("form.series-form");
  var target = document.getElementById("series-preview");
  if (!form || !target || !window.fetch || !window.FormData) return;
  var url = form.getAttribute("data-preview-url");
  var button = form.querySelector('[name="preview"]');
  if (!url) return;
  var timer = null, latest = 0;

  function refresh(scroll) {
    var body = new FormData(form);
    body.delete("add_month");
    body.delete("submit");
    var ticket = ++latest;
    form.setAttribute("aria-busy", "true");
    fetch(url, {method: "POST", body: body, credentials: "same-origin",
                headers: {"X-Requested-With": "fetch", "Accept": "text/html"}})
      .then(function (response) {
        if (response.status !== 200 && response.status !== 422) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (ticket !== latest) return; // an answer to an older state of the form
        target.innerHTML = html;
        // Screen readers hear the new heading ("The next 6 dates" / "No preview yet"), not the whole table.
        var status = document.getElementById("series-preview-status");
        var heading = target.querySelector("h2");
        if (status && heading) status.textContent = heading.textContent;
        if (scroll && target.firstElementChild) target.firstElementChild.scrollIntoView({block: "start"});
      })
      .catch(function () { /* the Preview button still works through the server */ })
      .then(function () { if (ticket === latest) form.removeAttribute("aria-busy"); });
  }

  function later() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () { refresh(false); }, 500);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  if (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (timer) clearTimeout(timer);
      refresh(true);
    });
  }
})();
