// CloudFair: the page's words for scripts. A page embeds its texts as JSON (translated by the server);
// `cloudfairText(texts, key, fallback, values)` gives the text for `key` (else the English `fallback`)
// with its {placeholders} filled from `values`. Loaded before the scripts that use it (live.js, upload.js).
window.cloudfairText = function (texts, key, fallback, values) {
  var text = texts && typeof texts[key] === "string" ? texts[key] : fallback;
  return text.replace(/\{(\w+)\}/g, function (whole, name) {
    return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
  });
};
