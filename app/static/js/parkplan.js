// A park's master plan: the uploaded image under Leaflet with CRS.Simple (no tiles, no internet), its
// plots drawn as polygons coloured by availability. On the plan editor a person picks a plot, clicks
// the corners on the image, and saves; the outline goes to the server as image pixels [[x, y], ...]
// (x to the right, y down from the top-left corner) in a plain form post (with its CSRF token).
(function () {
  "use strict";

  var node = document.getElementById("plan-config");
  var box = document.getElementById("plan-map");
  if (!node || !box || typeof L !== "object") return;
  var config = JSON.parse(node.textContent);
  var W = config.width, H = config.height;
  var COLOURS = { available: "#1a7f37", reserved: "#b35900", taken: "#6e7781" };

  // Image pixels (x right, y down) <-> CRS.Simple (lat up, lng right).
  function toLatLng(p) { return [H - p[1], p[0]]; }
  function toPixel(ll) { return [Math.round(ll.lng * 10) / 10, Math.round((H - ll.lat) * 10) / 10]; }

  var bounds = [[0, 0], [H, W]];
  var map = L.map(box, { crs: L.CRS.Simple, minZoom: -5, maxZoom: 3, zoomSnap: 0.25, attributionControl: false });
  L.imageOverlay(config.image, bounds, { alt: config.alt }).addTo(map);
  map.fitBounds(bounds);
  map.setMaxBounds(L.latLngBounds(bounds).pad(0.2));

  var shapes = {};
  function drawPlot(plot) {
    if (shapes[plot.id]) { map.removeLayer(shapes[plot.id]); delete shapes[plot.id]; }
    if (!plot.outline || plot.outline.length < 3) return;
    var colour = COLOURS[plot.status] || COLOURS.taken;
    var shape = L.polygon(plot.outline.map(toLatLng), { color: colour, fillColor: colour, fillOpacity: 0.35, weight: 2 });
    shape.bindTooltip(plot.label, { sticky: true });
    shape.addTo(map);
    var el = shape.getElement();
    if (el) { el.setAttribute("data-plot-id", plot.id); el.setAttribute("data-status", plot.status); el.classList.add("plan-plot"); }
    shapes[plot.id] = shape;
  }
  config.plots.forEach(drawPlot);

  // ------------------------------------------------------------ drawing (the plan editor only)
  var form = document.getElementById("outline-form");
  if (!form) return;
  var select = form.querySelector("select[name=plot_id]");
  var field = form.querySelector("input[name=outline]");
  var count = document.getElementById("outline-count");
  var points = [];
  var draft = null;

  function redraw() {
    if (draft) map.removeLayer(draft);
    draft = points.length ? L.polyline(points.map(toLatLng), { color: "#0969da", weight: 2, dashArray: "4 4" }).addTo(map) : null;
    field.value = JSON.stringify(points);
    count.textContent = count.getAttribute("data-template").replace("{num}", String(points.length));
  }
  map.on("click", function (e) {
    var p = toPixel(e.latlng);
    if (p[0] < 0 || p[1] < 0 || p[0] > W || p[1] > H) return;  // outside the image
    points.push(p);
    redraw();
  });
  document.getElementById("outline-undo").addEventListener("click", function () { points.pop(); redraw(); });
  document.getElementById("outline-clear").addEventListener("click", function () { points = []; redraw(); });
  select.addEventListener("change", function () { points = []; redraw(); });
  redraw();
})();
