// CloudFair page helpers: remember the browser's time zone for anonymous visitors; copy buttons.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
      // First visit: the page was drawn in the host's zone. Draw it again in the browser's,
      // once, and only if the cookie stuck (no reload loop where cookies are refused).
      var shown = document.body && document.body.getAttribute("data-viewer-tz");
      var anonymous = document.body && document.body.hasAttribute("data-anonymous");
      if (anonymous && shown && shown !== zone && document.cookie.indexOf("tz=" + zone) !== -1 &&
          !sessionStorage.getItem("cloudfair-tz-reloaded")) {
        sessionStorage.setItem("cloudfair-tz-reloaded", "1");
        window.location.reload();
      }
    }
  } catch (e) { /* old browsers: the host zone is used */ }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.select();
    (navigator.clipboard ? navigator.clipboard.writeText(field.value) : Promise.reject())
      .catch(function () { document.execCommand("copy"); })
      .finally(function () { button.textContent = "Copied"; });
  });
})();
