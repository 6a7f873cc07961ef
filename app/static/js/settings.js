// My settings: say the chosen time zone's current UTC offset as it is typed (the <datalist> is the search,
// and the server checks the zone, so the page works without this), and copy the private calendar link.
(function () {
  "use strict";

  var zoneInput = document.getElementById("timezone");
  var zoneStatus = document.getElementById("tz-status");
  if (zoneInput && zoneStatus && window.fetch) {
    var timer = null;
    var asked = "";
    var show = function () {
      var value = zoneInput.value.trim();
      if (!value || value === asked) return;
      asked = value;
      fetch("/api/v1/timezones?q=" + encodeURIComponent(value), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body || zoneInput.value.trim() !== value) return;
          var match = null;
          body.items.forEach(function (item) { if (item.name === value) match = item; });
          if (match) {
            zoneStatus.textContent = zoneStatus.getAttribute("data-now")
              .replace("{zone}", match.name).replace("{offset}", "UTC" + match.offset);
          } else if (!body.items.length) {
            zoneStatus.textContent = zoneStatus.getAttribute("data-unknown");
          }
        })
        .catch(function () { /* the server still checks the zone on saving */ });
    };
    zoneInput.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(show, 250);
    });
    zoneInput.addEventListener("change", show);
  }

  var copyButton = document.getElementById("copy-feed");
  var copyStatus = document.getElementById("copy-status");
  if (copyButton && copyStatus) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      var field = document.querySelector(copyButton.getAttribute("data-copy-from"));
      if (!field) return;
      var done = function () { copyStatus.textContent = copyStatus.getAttribute("data-copied"); };
      var fallback = function () {
        field.focus();
        field.select();
        try {
          if (document.execCommand("copy")) { done(); return; }
        } catch (e) { /* fall through */ }
        copyStatus.textContent = copyStatus.getAttribute("data-failed");
      };
      copyStatus.textContent = "";
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  }
})();
