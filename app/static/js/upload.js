// Material upload with drag-and-drop and a progress bar. Without this script the form
// posts to the page route; with it, the file goes to the API and the page reloads.
// What it says comes from the form's <script type="application/json" class="upload-i18n"> (the
// page's language); the English here is only the fallback.
(function () {
  "use strict";
  document.querySelectorAll("form.upload").forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    var zone = form.querySelector(".dropzone");
    var bar = form.querySelector(".upload-progress");
    var status = form.querySelector(".upload-status");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var token = form.querySelector('input[name="csrf_token"]').value;
    var texts = {};
    try { texts = JSON.parse(form.querySelector(".upload-i18n").textContent) || {}; } catch (e) { /* English */ }

    // The page's text for `key` (else `fallback`), its {placeholders} filled from `values`.
    function t(key, fallback, values) { return window.cloudfairText(texts, key, fallback, values); }

    function say(text, isError) {
      status.textContent = text;
      status.classList.toggle("error", !!isError);
    }

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.remove("dragging");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        say(t("ready", "Ready to upload: {name}", { name: input.files[0].name }));
      }
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var file = input.files && input.files[0];
      if (!file) { say(t("choose", "Choose a file first."), true); return; }
      if (file.size > maxBytes) {
        say(t("too_large", "This file is larger than the limit of {size} MB.", { size: Math.round(maxBytes / 1048576) }), true);
        return;
      }
      var data = new FormData();
      data.append("file", file, file.name);
      var replaces = form.querySelector('select[name="replaces"]');
      if (replaces && replaces.value) data.append("replaces", replaces.value);

      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", token);
      xhr.setRequestHeader("Accept", "application/json");
      bar.hidden = false;
      bar.value = 0;
      say(t("starting", "Uploading {name} …", { name: file.name }));
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.value = Math.round((e.loaded / e.total) * 100);
          say(t("progress", "Uploading {name}: {percent}%", { name: file.name, percent: bar.value }));
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          bar.value = 100;
          say(t("done", "Uploaded. It waits for an organiser's review."));
          window.location.reload();
          return;
        }
        var message = t("failed", "The upload failed ({status}).", { status: xhr.status });
        try { message = JSON.parse(xhr.responseText).error.message; } catch (e) { /* keep the plain message */ }
        bar.hidden = true;
        say(message, true);
      });
      xhr.addEventListener("error", function () {
        bar.hidden = true;
        say(t("lost", "The connection was lost; nothing was uploaded. Try again."), true);
      });
      xhr.send(data);
    });
  });
})();
