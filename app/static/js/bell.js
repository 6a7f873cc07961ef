// The bell's unread count, live: on pages with the live room (live.js owns the Socket.IO
// connection and re-dispatches each "notification" as a "cloudfair:notification" DOM event).
// Elsewhere it does nothing; the count is then as fresh as the page. What it announces comes from
// the page (#bell-announce's data-with-title and data-without-title, in the reader's language, with
// {title} and {count} to fill in), with English when they are missing.
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {  // after every deferred script
    var badge = document.getElementById("bell-count");
    if (!badge || typeof window.io !== "function" || !document.getElementById("live-config")) return;
    var announce = document.getElementById("bell-announce");

    document.addEventListener("cloudfair:notification", function (event) {
      var count = (parseInt(badge.textContent, 10) || 0) + 1;
      badge.textContent = String(count);
      badge.classList.remove("bell-zero");
      var title = event.detail && event.detail.title;
      if (announce) {
        var template = title
          ? announce.getAttribute("data-with-title") || "New notification: {title}. {count} unread."
          : announce.getAttribute("data-without-title") || "New notification. {count} unread.";
        announce.textContent = fill(template, {title: title || "", count: count});
      }
    });
  });
})();
