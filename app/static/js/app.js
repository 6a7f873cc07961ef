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

  // The organisers' navigation menus (<details>, usable without this): one open at a time; Escape
  // or a click elsewhere closes it (Escape gives the focus back to its summary).
  var menus = document.querySelectorAll("details[data-nav-menu]");
  Array.prototype.forEach.call(menus, function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) return;
      Array.prototype.forEach.call(menus, function (other) { if (other !== menu) other.open = false; });
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    Array.prototype.forEach.call(menus, function (menu) {
      if (!menu.open) return;
      menu.open = false;
      if (menu.contains(document.activeElement)) menu.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    Array.prototype.forEach.call(menus, function (menu) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
  });

  // The lead board's stage index: a stage's link scrolls the board sideways to its column.
  var board = document.querySelector(".board[role=region]");
  if (board) {
    var hint = document.querySelector("[data-stage-hint]");
    var showEnds = function () {
      var more = board.scrollWidth - board.clientWidth > 2;
      board.classList.toggle("more-right", more && board.scrollLeft + board.clientWidth < board.scrollWidth - 2);
      board.classList.toggle("more-left", more && board.scrollLeft > 2);
      if (hint) hint.hidden = !more;
    };
    // A stage's link: bring its column into the board's view and give it the focus (without
    // this script the link is a plain #anchor, which the browser scrolls to as well).
    Array.prototype.forEach.call(document.querySelectorAll(".stage-index a"), function (link) {
      link.addEventListener("click", function (event) {
        var heading = document.getElementById(link.getAttribute("href").slice(1));
        var column = heading && heading.closest(".column");
        if (!column) return;
        event.preventDefault();
        var wanted = column.offsetLeft - 8;  // the board is the columns' offset parent
        board.scrollTo({ left: Math.max(0, Math.min(wanted, board.scrollWidth - board.clientWidth)), behavior: "auto" });
        column.scrollIntoView({ block: "nearest", inline: "nearest" });
        column.setAttribute("tabindex", "-1");
        column.focus({ preventScroll: true });
      });
    });
    board.addEventListener("scroll", showEnds, { passive: true });
    window.addEventListener("resize", showEnds);
    showEnds();
  }
})();
