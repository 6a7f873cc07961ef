// The lead board: drag a card to another column to move the lead. The card moves at once; if
// the server refuses, its message is shown and the card goes back. Keyboard users use the
// card's buttons, which post the same move as a plain form. What it says comes from the page
// (#board-strings, in the reader's language), with English when that is missing.
(function () {
  "use strict";
  var board = document.querySelector("[data-board]");
  if (!board) return;
  var token = board.getAttribute("data-csrf");
  var strings = {
    moving: "Moving {project} to {stage} …",
    moved: "{project} moved to {stage}.",
    moveTo: "Move {project} ({organisation}) to {stage}",
    refused: "The lead was not moved ({status}).",
    needsReason: "Give the reason on the lead's page.",
    offline: "The connection was lost; the lead was not moved. Try again."
  };
  var block = document.getElementById("board-strings");
  if (block) {
    try {
      var given = JSON.parse(block.textContent);
      Object.keys(strings).forEach(function (key) { if (given[key]) strings[key] = given[key]; });
    } catch (e) { /* keep the English */ }
  }

  // strings[key] with each {name} replaced by values[name].
  function words(key, values) {
    return strings[key].replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values || {}, name) ? String(values[name]) : whole;
    });
  }

  var status = document.querySelector(".board-status");
  var columns = Array.prototype.slice.call(document.querySelectorAll("[data-column]"));
  var dragged = null;

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function recount() {
    columns.forEach(function (column) {
      var count = column.querySelector(".count");
      if (count) count.textContent = column.querySelectorAll(".lead-card").length;
    });
  }

  // After a move the card's "next stage" button and its stage list follow the new column.
  function refreshControls(card, column) {
    var next = column.getAttribute("data-next-stage");
    var button = card.querySelector("button.move-next");
    if (button) {
      var form = button.form;
      if (next) {
        button.value = next;
        button.textContent = "→ " + column.getAttribute("data-next-label");
        button.setAttribute("aria-label", words("moveTo", {project: card.getAttribute("data-title"),
          organisation: card.getAttribute("data-organisation") || "", stage: column.getAttribute("data-next-label")}));
        form.hidden = false;
      } else {
        form.hidden = true;
      }
    }
    var select = card.querySelector(".move-form select");
    if (select) select.value = card.getAttribute("data-stage");
  }

  function move(card, column) {
    var from = card.getAttribute("data-stage");
    var to = column.getAttribute("data-column");
    if (from === to) return;
    var home = card.parentNode;
    var before = card.nextSibling;
    var list = column.querySelector(".cards-list");
    list.insertBefore(card, list.firstChild);
    recount();
    var title = card.getAttribute("data-title");
    var label = column.getAttribute("data-label");
    say(words("moving", {project: title, stage: label}));

    function putBack(message) {
      home.insertBefore(card, before);
      recount();
      say(message, true);
      card.classList.add("refused");
      window.setTimeout(function () { card.classList.remove("refused"); }, 2000);
    }

    fetch("/api/v1/leads/" + card.getAttribute("data-lead-id") + "/progress", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({stage: to})
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok) {
          card.setAttribute("data-stage", to);
          refreshControls(card, column);
          say(words("moved", {project: title, stage: label}));
          return;
        }
        var message = words("refused", {status: response.status});
        if (body && body.error) {
          message = body.error.message;
          var fields = (body.error.details || {}).fields || {};
          if (fields.note) message += " " + words("needsReason");
        }
        putBack(message);
      });
    }).catch(function () {
      putBack(words("offline"));
    });
  }

  board.parentNode.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest('.lead-card[draggable="true"]');
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-lead-id"));
  });
  board.parentNode.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    columns.forEach(function (c) { c.classList.remove("drop-target"); });
  });

  columns.forEach(function (column) {
    column.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      column.classList.add("drop-target");
    });
    column.addEventListener("dragleave", function (event) {
      if (!column.contains(event.relatedTarget)) column.classList.remove("drop-target");
    });
    column.addEventListener("drop", function (event) {
      event.preventDefault();
      column.classList.remove("drop-target");
      if (!dragged) return;
      var card = dragged;
      dragged = null;
      card.classList.remove("dragging");
      if (column.tagName === "DETAILS") column.open = true;
      move(card, column);
    });
  });
})();
