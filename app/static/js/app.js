// CloudFair page helpers: remember the browser's time zone for anonymous visitors; copy buttons.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
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
