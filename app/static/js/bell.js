// The bell's unread count, live: on pages with the live room (live.js owns the Socket.IO
// connection and re-dispatches each "notification" as a "cloudfair:notification" DOM event).
// Elsewhere it does nothing; the count is then as fresh as the page.
(function () {
  "use strict";

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
        announce.textContent = "New notification" + (title ? ": " + title : "") + ". " + count + " unread.";
      }
    });
  });
})();
