// The live room, the moderation desk and the projector: one Socket.IO connection to /live.
//
// The page is drawn at the session's `seq`; on every (re)connect we `join` with the last seq seen
// and apply what the ack brings (the missed events, or the full state). Events are applied strictly
// in `seq` order (see "events in seq order" below): early ones wait, missing ones are fetched. Questions and interests go
// through an OUTBOX in localStorage: written before sending, removed only when the server
// acknowledges (a duplicate counts), resent on every connect and page load, retried with back-off.
// All user text goes into the page with textContent, never innerHTML. What the script itself says
// comes from the page's <script type="application/json" id="live-i18n"> (the page's language), with
// the English here as the fallback.
(function () {
  "use strict";

  var configNode = document.getElementById("live-config");
  var root = document.getElementById("live");
  if (!configNode || !root || typeof io !== "function") return;
  var config = JSON.parse(configNode.textContent);
  var PAGE = config.page;
  var SID = config.session_id;
  var STAFF = !!config.staff;
  var ATTENDEE = config.role === "attendee";
  var ZONE = document.body.getAttribute("data-viewer-tz") || undefined;

  var RETRYABLE = { rate_limited: true, internal_error: true, unauthorized: true, timeout: true };
  var ACK_TIMEOUT = 8000;
  var LANG = document.documentElement.getAttribute("lang") || "en";

  // ------------------------------------------------------------ the page's words

  var TEXTS = {};
  try { TEXTS = JSON.parse(document.getElementById("live-i18n").textContent) || {}; } catch (e) { /* English */ }
  // The page's text for `key` (else `fallback`), its {placeholders} filled from `values`.
  function t(key, fallback, values) { return window.cloudfairText(TEXTS, key, fallback, values); }
  // "{num} votes" for n (Chinese has one form; English "_one" for 1, "_other" otherwise), unfilled.
  function pluralText(key, n, one, other) {
    return n === 1 ? t(key + "_one", one) : t(key + "_other", other);
  }
  var STATE_FALLBACK = { queued: "queued", sending: "sending…", sent: "sent", failed: "not sent" };
  function stateText(state) { return t("state_" + state, STATE_FALLBACK[state] || state); }
  // Put `template` into `line`, the element `holder` (which shows the number) where {num} stands.
  function fillLine(line, template, holder) {
    var at = template.indexOf("{num}");
    line.textContent = "";
    if (at < 0) {
      line.appendChild(holder);
      line.appendChild(document.createTextNode(" " + template));
      return;
    }
    if (at > 0) line.appendChild(document.createTextNode(template.slice(0, at)));
    line.appendChild(holder);
    if (at + 5 < template.length) line.appendChild(document.createTextNode(template.slice(at + 5)));
  }
  // Keep a number current, and the sentence around it ("1 person here", "2 people here").
  function setNumber(node, n, key, one, other) {
    node.textContent = String(n);
    var line = node.closest("[data-line]");
    if (!line) return;
    var holder = node;
    while (holder.parentNode && holder.parentNode !== line) holder = holder.parentNode;
    fillLine(line, pluralText(key, n, one, other), holder);
  }

  // ------------------------------------------------------------ storage (never fatal)

  var keyBase = "cloudfair." + config.user_id + "." + SID + ".";
  function load(store, name, fallback) {
    try {
      var raw = store.getItem(keyBase + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) { return fallback; }
  }
  function save(store, name, value) {
    try { store.setItem(keyBase + name, JSON.stringify(value)); } catch (e) { /* private mode: memory only */ }
  }
  var local = window.localStorage, session = window.sessionStorage;

  // ------------------------------------------------------------ state

  var lastSeq = config.seq;  // the page was drawn at this seq: every event up to it is applied
  var joined = false;
  var questions = {};  // id -> question dict
  // What is this person's own comes from the server (the page, the join ack, their own events), so
  // it is the same on every device: question ids they asked, question ids they voted for.
  var mine = {}, voted = {};
  function markPersonal(q) {
    if (q.mine === true) mine[q.id] = true;
    if (q.voted === true) voted[q.id] = true;
  }
  config.questions.forEach(function (q) { questions[q.id] = q; markPersonal(q); });
  // The page and a join carry the first page of questions in the room's order; the rest come page by
  // page when the reader asks ("Show more questions"). Events update any question, shown or not.
  var morePages = !!config.questions_more, nextPage = 2;
  function showMoreLine() {
    var line = byId("questions-more-line");
    if (line) line.hidden = !morePages;
  }
  function loadMoreQuestions() {
    var button = byId("questions-more");
    if (button) button.disabled = true;
    var url = config.questions_url + "?per_page=" + encodeURIComponent(config.questions_page) + "&page=" + nextPage;
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        // Only questions not known yet: a known one may already be newer (from an event).
        (body.items || []).forEach(function (q) { if (!questions[q.id]) { questions[q.id] = q; markPersonal(q); } });
        nextPage += 1;
        morePages = body.page * body.per_page < body.total;
        drawQuestions();
        showMoreLine();
      }, function () {})
      .then(function () { if (button) button.disabled = false; });
  }
  var moreButton = byId("questions-more");
  if (moreButton) moreButton.addEventListener("click", loadMoreQuestions);
  var LEVEL_ORDER = config.level_order || [];
  var myInterests = config.my_interests || {};  // project id -> {level, items}

  function rememberSeq(seq) {
    if (typeof seq === "number" && seq > lastSeq) lastSeq = seq;
    save(session, "seq", lastSeq);
  }
  window.addEventListener("pageshow", function (event) {
    // Restored from the back-forward cache: the page is as it was when left, at the stored seq.
    if (event.persisted) lastSeq = Math.max(lastSeq, load(session, "seq", lastSeq));
  });
  rememberSeq(lastSeq);

  // ------------------------------------------------------------ small helpers

  // An organisation's name in the page's language, else the other one marked ("(in Chinese)").
  function orgName(item) {
    var texts = item && item.organisation_i18n;
    if (!texts) return (item && item.organisation) || "";
    var mine = LANG.indexOf("zh") === 0 ? "zh" : "en";
    var other = mine === "zh" ? "en" : "zh";
    if (texts[mine]) return texts[mine];
    if (texts[other]) return texts[other] + " " + (other === "zh" ? t("in_chinese", "(in Chinese)") : t("in_english", "(in English)"));
    return item.organisation || "";
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function byId(id) { return document.getElementById(id); }
  function plural(key, n, one, other) { return pluralText(key, n, one, other).replace("{num}", String(n)); }
  function clock(iso) {
    try {
      return new Intl.DateTimeFormat("en-GB", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false })
        .format(new Date(iso));
    } catch (e) { return ""; }
  }
  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  function announce(id, text) {
    var node = byId(id);
    if (!node) return;
    node.textContent = "";
    window.setTimeout(function () { node.textContent = text; }, 50);
  }

  // ------------------------------------------------------------ connection state

  var connNode = byId("live-conn");
  var connected = false;
  function showConnection() {
    if (!connNode) return;
    var queued = outbox().length;
    var state, text;
    if (connected) { state = "connected"; text = t("connected", "connected"); }
    else if (queued) { state = "offline"; text = t("offline_queued", "offline — {count} queued", { count: queued }); }
    else { state = "reconnecting"; text = t("reconnecting", "reconnecting…"); }
    connNode.setAttribute("data-state", state);
    connNode.querySelector(".live-conn-text").textContent = text;
  }
  function showPresence(count) {
    var node = byId("live-presence");
    if (node) setNumber(node, count, "presence", "{num} person here", "{num} people here");
  }

  // ------------------------------------------------------------ questions

  function ordered() {
    return Object.keys(questions).map(function (id) { return questions[id]; }).sort(function (a, b) {
      if (a.pinned !== b.pinned) return a.pinned ? -1 : 1;
      if (a.votes !== b.votes) return b.votes - a.votes;
      var ta = Date.parse(a.created_at), tb = Date.parse(b.created_at);
      if (ta !== tb) return ta - tb;
      return a.id - b.id;
    });
  }

  function visible(q) {
    if (PAGE === "projector") return q.status === "open";
    return STAFF || q.status !== "hidden";
  }

  // The projector: open questions, pinned first; with no open pinned one, the last pinned question
  // that was answered leads (marked answered). Mirrors services.projector_questions.
  function projectorList(all) {
    var shown = all.filter(function (q) { return q.status === "open"; });
    if (!shown.some(function (q) { return q.pinned; })) {
      var last = null;
      all.forEach(function (q) {
        if (!q.pinned || q.status !== "answered") return;
        if (!last || q.updated_at > last.updated_at || (q.updated_at === last.updated_at && q.id > last.id)) last = q;
      });
      if (last) shown.unshift(last);
    }
    return shown.slice(0, config.projector_questions);
  }

  function questionItem(q) {
    var li = el("li", "question status-" + q.status + (q.pinned ? " pinned" : ""));
    li.setAttribute("data-id", q.id);
    var text = el("p", "q-text");
    if (q.text === null || q.text === undefined) text.appendChild(el("em", "muted", t("hidden_by_moderator", "Hidden by a moderator")));
    else text.textContent = q.text;
    li.appendChild(text);

    var meta = el("p", "q-meta");
    if (q.pinned) { meta.appendChild(el("span", "badge badge-pinned", t("pinned", "pinned"))); meta.appendChild(document.createTextNode(" ")); }
    if (q.status !== "open" && (PAGE !== "projector" || q.status === "answered")) {
      meta.appendChild(el("span", "badge badge-" + q.status, t("status_" + q.status, q.status)));
      meta.appendChild(document.createTextNode(" "));
    }
    if (PAGE === "projector") {
      meta.appendChild(el("span", "q-author", orgName(q)));
    } else {
      meta.appendChild(el("span", "q-author", (q.author || "") + (q.organisation ? ", " + orgName(q) : "")));
      meta.appendChild(document.createTextNode(" · "));
      var time = el("time", null, clock(q.created_at));
      time.setAttribute("datetime", q.created_at);
      meta.appendChild(time);
    }
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "q-votes", plural("votes", q.votes, "{num} vote", "{num} votes")));
    if (mine[q.id] && PAGE === "room") {
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", "item-state state-sent", t("your_question_sent", "your question · sent")));
    }
    li.appendChild(meta);

    if (PAGE === "room" && ATTENDEE && q.status !== "hidden" && !mine[q.id]) {  // never on one's own question
      var actions = el("div", "q-actions");
      var done = !!voted[q.id];
      var vote = el("button", "button vote", done ? t("voted", "Voted") : t("vote", "Vote"));
      vote.type = "button";
      vote.setAttribute("aria-pressed", done ? "true" : "false");
      var about = { text: q.text || t("this_question", "this question") };
      vote.setAttribute("aria-label", done ? t("you_voted_for", "You voted for: {text}", about) : t("vote_for", "Vote for: {text}", about));
      vote.setAttribute("data-focus-key", "vote-" + q.id);
      vote.disabled = done;
      vote.addEventListener("click", function () { sendVote(q.id, vote); });
      actions.appendChild(vote);
      actions.appendChild(el("span", "item-state", ""));
      li.appendChild(actions);
    }
    if (PAGE === "moderate") {
      var tools = el("div", "q-actions");
      var choices = [];
      if (q.status !== "answered" && q.status !== "hidden") choices.push(["answer", t("action_answer", "Mark answered")]);
      if (q.status !== "hidden") choices.push(["hide", t("action_hide", "Hide")]);
      if (q.status !== "hidden") choices.push(q.pinned ? ["unpin", t("action_unpin", "Unpin")] : ["pin", t("action_pin", "Pin")]);
      choices.forEach(function (choice) {
        var button = el("button", "button small-button", choice[1]);
        button.type = "button";
        button.setAttribute("data-action", choice[0]);
        button.setAttribute("data-focus-key", choice[0] + "-" + q.id);
        button.setAttribute("aria-label", t("action_on", "{action}: {text}",
          { action: choice[1], text: q.text || t("question_number", "question {id}", { id: q.id }) }));
        button.addEventListener("click", function () { sendModeration(q.id, choice[0], button); });
        tools.appendChild(button);
      });
      tools.appendChild(el("span", "item-state", ""));
      li.appendChild(tools);
    }
    return li;
  }

  function drawQuestions() {
    var list = byId("questions");
    if (!list) return;
    var focusKey = document.activeElement && list.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-focus-key") : null;
    var shown = PAGE === "projector" ? projectorList(ordered()) : ordered().filter(visible);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (q) { fragment.appendChild(questionItem(q)); });
    list.textContent = "";
    list.appendChild(fragment);
    var empty = byId("questions-empty");
    if (empty) empty.hidden = shown.length > 0;
    if (focusKey) {
      var again = list.querySelector('[data-focus-key="' + focusKey + '"]');
      if (again && !again.disabled) again.focus();
      else {
        var item = list.querySelector('[data-id="' + focusKey.split("-").pop() + '"]');
        if (item) { item.setAttribute("tabindex", "-1"); item.focus(); }
      }
    }
  }

  function applyQuestion(q, fromServerEvent) {
    var known = questions[q.id];
    var merged = {};
    var key;
    if (known) for (key in known) merged[key] = known[key];
    for (key in q) {
      // The room's copy of a hidden question carries no text; staff keep the text they had.
      if ((key === "text" || key === "author" || key === "organisation" || key === "organisation_i18n") && q[key] === null && STAFF && known) continue;
      if (key !== "seq" && key !== "session_id") merged[key] = q[key];
    }
    questions[q.id] = merged;
    markPersonal(q);
    if (!known && fromServerEvent && visible(merged) && merged.text) {
      announce("qa-announce", merged.organisation
        ? t("new_question_from", "New question from {organisation}: {text}", { organisation: orgName(merged), text: merged.text })
        : t("new_question", "New question: {text}", { text: merged.text }));
    }
  }

  // ------------------------------------------------------------ interest counts and the staff feed

  function setCount(projectId, count) {
    document.querySelectorAll('[data-count-for="' + projectId + '"]').forEach(function (node) {
      setNumber(node, count, "count", "{num} organisation interested", "{num} organisations interested");
    });
  }

  function addInterest(data) {
    var feed = byId("interest-feed");
    if (!feed || feed.querySelector('[data-interest-id="' + data.id + '"]')) return;
    var li = el("li", "interest card new");
    li.setAttribute("data-interest-id", data.id);
    li.setAttribute("data-client-id", data.client_id);
    var head = el("p");
    head.appendChild(el("strong", "i-org", orgName(data)));
    if (data.city) { head.appendChild(document.createTextNode(" ")); head.appendChild(el("span", "i-city muted", "(" + data.city + ")")); }
    head.appendChild(document.createTextNode(" · "));
    head.appendChild(el("span", "i-level badge badge-level-" + data.level, config.levels[data.level] || data.level));
    li.appendChild(head);
    var line = el("p", "small");
    line.appendChild(el("span", "i-project", config.projects[String(data.project_id)] || ""));
    line.appendChild(document.createTextNode(" · "));
    line.appendChild(el("span", "i-user", data.user || ""));
    line.appendChild(document.createTextNode(" · "));
    var time = el("time", null, clock(data.created_at));
    time.setAttribute("datetime", data.created_at);
    line.appendChild(time);
    li.appendChild(line);
    if (data.note) li.appendChild(el("p", "i-note", data.note));
    feed.insertBefore(li, feed.firstChild);
    var empty = byId("interest-empty");
    if (empty) empty.hidden = true;
    announce("interest-announce", t("interest_from", "{organisation}: {level}",
      { organisation: orgName(data), level: config.levels[data.level] || data.level }));
  }

  // ------------------------------------------------------------ this organisation's own interest

  function levelLabel(level) { return config.levels[level] || level; }

  // "Your organisation's interest: Wants a meeting", its interests, and the form set to raise the
  // level or add a note (it starts at the current level; a lower one moves nothing).
  function drawMyInterest(projectId) {
    var entry = myInterests[String(projectId)];
    var box = document.querySelector('[data-my-interest-for="' + projectId + '"]');
    if (!entry || !box) return;
    box.hidden = false;
    box.querySelector(".my-level").textContent = levelLabel(entry.level);
    var list = box.querySelector(".my-interest-items");
    list.textContent = "";
    entry.items.forEach(function (i) {
      var li = el("li", null, levelLabel(i.level) + (i.note ? " — " + i.note : "") + " ");
      li.appendChild(el("span", "muted", "(" + (i.user || "") + ")"));
      list.appendChild(li);
    });
    var form = document.querySelector('.interest-form[data-project-id="' + projectId + '"]');
    if (!form) return;
    form.querySelectorAll(".legend-new").forEach(function (node) { node.hidden = true; });
    form.querySelectorAll(".legend-more").forEach(function (node) { node.hidden = false; });
    var select = form.querySelector('[name="level"]');
    if (LEVEL_ORDER.indexOf(select.value) < LEVEL_ORDER.indexOf(entry.level)) select.value = entry.level;
  }

  function addMyInterest(interest) {
    var key = String(interest.project_id);
    var entry = myInterests[key] || (myInterests[key] = { level: interest.level, items: [] });
    if (entry.items.some(function (i) { return i.id === interest.id; })) return;
    entry.items.push(interest);
    if (LEVEL_ORDER.indexOf(interest.level) > LEVEL_ORDER.indexOf(entry.level)) entry.level = interest.level;
    drawMyInterest(interest.project_id);
    // A wish for a meeting is answered with the way to book it.
    var book = document.querySelector('[data-book-meeting-for="' + interest.project_id + '"]');
    if (book && interest.level === "meeting") book.hidden = false;
  }

  function setMyInterests(all) {
    myInterests = all || {};
    Object.keys(myInterests).forEach(drawMyInterest);
  }

  // ------------------------------------------------------------ the best sites for a pitched project
  // Staff see the top three parks (pushed as `site_matches` when the pitch starts or its projects or
  // needs change); a city sees its own plots (drawn with the page).
  function drawSites(projectId, items) {
    var box = document.querySelector('[data-sites-for="' + projectId + '"]');
    if (!box || !items) return;
    var list = box.querySelector(".sites-list");
    list.textContent = "";
    // The API gives an area as a decimal string ("110.00"); shown as the pages show amounts
    // (the `money` filter): whole numbers without decimals, digits grouped for the page's language.
    function area(value) {
      var n = Number(value);
      if (value === null || value === "" || !isFinite(n)) return value;
      var digits = n === Math.round(n) ? 0 : 2;
      return n.toLocaleString(document.documentElement.lang || undefined,
        { minimumFractionDigits: digits, maximumFractionDigits: digits });
    }
    items.forEach(function (m) {
      var li = el("li", "site");
      li.setAttribute("data-plot-id", m.plot.id);
      var link = el("a", null, t("site_line", "{park} · plot {plot} · {mu} mu",
        { park: m.park.name, plot: m.plot.name, mu: area(m.plot.area_mu) }));
      link.href = "/parks/" + encodeURIComponent(m.park.id);
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", "muted", t("site_score", "score {score}", { score: m.score })));
      (m.gaps || []).forEach(function (gap) { li.appendChild(el("br")); li.appendChild(el("span", "gap", gap)); });
      list.appendChild(li);
    });
    box.querySelector(".sites-empty").hidden = items.length > 0;
  }

  // ------------------------------------------------------------ server events

  // Apply one event (its number is the next one); the caller redraws.
  function applyEvent(name, data) {
    if (name === "question") applyQuestion(data, true);
    else if (name === "interest_count") setCount(data.project_id, data.count);
    else if (name === "interest") addInterest(data);
    else if (name === "site_matches") drawSites(data.project_id, (data.matches || {})[LANG.indexOf("zh") === 0 ? "zh" : "en"]);
    // "skip": a staff-only event's number, nothing to show
    if (data.seq > lastSeq) lastSeq = data.seq;
  }

  // ------------------------------------------------------------ events in seq order
  // Events from several server processes overtake each other, and a process may die between storing
  // an event and sending it. So the page applies events strictly by `seq`: one that arrives ahead of
  // a missing number waits (EARLY) for REORDER_MS, then the missing numbers are fetched from the
  // event log (GET events?since_seq=, which returns exactly the events after it, a `skip` for each
  // staff-only one); a look at the log every HEAD_POLL_MS catches a lost last event. An event at or
  // below the last number applied is a duplicate and is dropped.
  var REORDER_MS = typeof config.reorder_ms === "number" ? config.reorder_ms : 300;
  var HEAD_POLL_MS = (typeof config.head_poll_seconds === "number" ? config.head_poll_seconds : 15) * 1000;
  var early = {};  // seq -> [name, data], not yet applied
  var gapTimer = null, fetching = false, fetchAgain = false, fetchFailures = 0;

  function hold(name, data) {
    if (typeof data.seq !== "number" || data.seq <= lastSeq || early[data.seq]) return;  // a duplicate
    if (name === "skip" && STAFF) return;  // staff get the event itself under this number
    early[data.seq] = [name, data];
  }

  function waiting() { return Object.keys(early).length > 0; }

  // Apply the held events next in line, up to `limit`; say whether any was.
  function applyHeld(limit) {
    var applied = false;
    Object.keys(early).forEach(function (seq) { if (Number(seq) <= lastSeq) delete early[seq]; });
    while (early[lastSeq + 1] && lastSeq + 1 <= limit) {
      var next = early[lastSeq + 1];
      delete early[lastSeq + 1];
      applyEvent(next[0], next[1]);
      applied = true;
    }
    return applied;
  }

  // Apply every held event that is next in line; a gap left behind is filled after REORDER_MS.
  function drain() {
    if (!joined) return;  // the join's answer comes first
    if (applyHeld(Infinity)) { drawQuestions(); rememberSeq(lastSeq); }
    if (!waiting()) {
      if (gapTimer) { window.clearTimeout(gapTimer); gapTimer = null; }
    } else if (!gapTimer) {
      gapTimer = window.setTimeout(function () { gapTimer = null; if (waiting()) catchUp(); }, REORDER_MS);
    }
  }

  // Fetch the events after the last one applied (exactly those, up to the log's head).
  function catchUp() {
    if (fetching) { fetchAgain = true; return; }
    fetching = true;
    var url = config.events_url + "?since_seq=" + encodeURIComponent(lastSeq);
    window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        fetchFailures = 0;
        if (body.reset) { if (socket.connected) join(); return; }  // too far behind: the full state
        (body.events || []).forEach(function (e) { hold(e.event, e.data); });
        drain();
      }, function () {
        fetchFailures += 1;  // offline or a restart: try again, slower each time
        window.setTimeout(function () { if (waiting()) catchUp(); }, Math.min(10000, 500 * Math.pow(2, fetchFailures)));
      })
      .then(function () {
        fetching = false;
        if (fetchAgain) { fetchAgain = false; if (waiting()) catchUp(); }
      });
  }

  window.setInterval(function () { if (joined && !fetching) catchUp(); }, HEAD_POLL_MS);

  function onLive(name) {
    return function (data) {
      if (!data || data.session_id !== SID) return;
      if (name === "presence") { showPresence(data.count); return; }  // carries seq, does not advance it
      if (name === "skip" && data.seqs) {  // staff-only numbers folded into one message: each held alone
        data.seqs.forEach(function (seq) { hold(name, { session_id: data.session_id, seq: seq }); });
      } else {
        hold(name, data);
      }
      drain();
    };
  }

  // ------------------------------------------------------------ the outbox

  function outbox() { return load(local, "outbox", []); }
  function storeOutbox(items) { save(local, "outbox", items); }
  function history() { return load(local, "sent", []); }
  var inFlight = {};  // client_id -> attempt number
  var attempts = {};  // client_id -> failed attempts, for the back-off
  var retryAt = {};  // client_id -> when (ms) a refused-for-now item may go again
  var retryTimer = null;
  // At most this many sends wait for their acks at once: a long-polling request carries every packet
  // written since the last one, and the transport refuses a payload of too many packets.
  var BATCH = 10;

  function put(item) {
    var items = outbox();
    items.push(item);
    storeOutbox(items);  // stored before it is sent: a closed lid loses nothing
    showConnection();
  }
  function take(clientId) {
    storeOutbox(outbox().filter(function (item) { return item.client_id !== clientId; }));
    delete inFlight[clientId];
    delete attempts[clientId];
    delete retryAt[clientId];
    showConnection();
  }
  function remember(item, state, message) {
    var items = history().filter(function (h) { return h.client_id !== item.client_id; });
    items.push({ kind: item.kind, client_id: item.client_id, data: item.data, state: state, message: message || "" });
    save(local, "sent", items.slice(-30));
  }

  function itemState(item, state, message) {
    var node = document.querySelector('[data-outbox-id="' + item.client_id + '"]');
    if (!node) node = drawOutboxItem(item);
    if (!node) return;
    node.setAttribute("data-state", state);
    var label = node.querySelector(".item-state");
    label.className = "item-state state-" + state;
    label.textContent = message
      ? t("state_with_message", "{state}: {message}", { state: stateText(state), message: message })
      : stateText(state);
  }

  function drawOutboxItem(item) {
    var list;
    if (item.kind === "ask") list = byId("my-pending");
    else {
      var form = document.querySelector('.interest-form[data-project-id="' + item.data.project_id + '"]');
      list = form && form.querySelector(".my-interests");
    }
    if (!list) return null;
    var li = el("li", "outbox-item");
    li.setAttribute("data-outbox-id", item.client_id);
    if (item.kind === "ask") li.appendChild(el("span", "outbox-text", item.data.text));
    else {
      li.appendChild(el("span", "outbox-text", config.levels[item.data.level] || item.data.level));
      if (item.data.note) li.appendChild(el("span", "muted", " — " + item.data.note));
    }
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", "item-state", ""));
    list.appendChild(li);
    return li;
  }

  // Send what waits, oldest first, at most BATCH unacknowledged at a time; each ack sends the next.
  function flush() {
    if (!connected || !joined) return;
    var room = BATCH - Object.keys(inFlight).length;
    var now = Date.now();
    outbox().forEach(function (item) {
      if (room <= 0 || inFlight[item.client_id] || (retryAt[item.client_id] || 0) > now) return;
      room -= 1;
      send(item);
    });
  }

  function scheduleRetry(item, seconds) {
    var n = (attempts[item.client_id] || 0) + 1;
    attempts[item.client_id] = n;
    var delay = Math.min(30000, 1000 * Math.pow(2, n - 1)) + Math.floor(Math.random() * 500);
    if (typeof seconds === "number" && seconds > 0) delay = Math.max(delay, seconds * 1000);  // the server's retry_after
    retryAt[item.client_id] = Date.now() + delay;
    wakeForRetries();
    flush();  // the others need not wait for this one
  }

  // One timer, for the earliest item waiting to be retried.
  function wakeForRetries() {
    if (retryTimer) window.clearTimeout(retryTimer);
    retryTimer = null;
    var now = Date.now();  // items already due go with the next ack's flush
    var times = Object.keys(retryAt).map(function (id) { return retryAt[id]; }).filter(function (at) { return at > now; });
    if (!times.length) return;
    retryTimer = window.setTimeout(function () { retryTimer = null; flush(); wakeForRetries(); },
      Math.max(0, Math.min.apply(null, times) - Date.now()));
  }

  function send(item) {
    if (inFlight[item.client_id]) return;
    if (!connected) { itemState(item, "queued"); return; }
    delete retryAt[item.client_id];
    var attempt = (inFlight[item.client_id] = Date.now());
    itemState(item, "sending");
    var event = item.kind === "ask" ? "ask" : "express_interest";
    socket.timeout(ACK_TIMEOUT).emit(event, item.data, function (err, ack) {
      if (inFlight[item.client_id] !== attempt) return;  // a later attempt owns this item now
      delete inFlight[item.client_id];
      if (err || !ack) { itemState(item, "queued"); scheduleRetry(item); return; }
      if (ack.ok) {
        take(item.client_id);
        remember(item, "sent");
        if (item.kind === "ask") {
          var li = document.querySelector('[data-outbox-id="' + item.client_id + '"]');
          if (li) li.parentNode.removeChild(li);
          applyQuestion(ack.question, false);
          drawQuestions();
          say("ask-status", t("question_sent", "Your question is sent."));
        } else {
          itemState(item, "sent");
          if (ack.interest) addMyInterest({ id: ack.interest.id, client_id: ack.interest.client_id,
            project_id: ack.interest.project_id, level: ack.interest.level, note: ack.interest.note,
            user: config.user_name, created_at: ack.interest.created_at });
        }
        flush();
        return;
      }
      var code = ack.error && ack.error.code;
      var message = (ack.error && ack.error.message) || t("refused", "Refused.");
      if (RETRYABLE[code]) {
        itemState(item, "queued", message);
        scheduleRetry(item, ack.error.details && ack.error.details.retry_after);
        return;
      }
      take(item.client_id);  // the server will never take it: say why and let it go
      remember(item, "failed", message);
      itemState(item, "failed", fieldMessage(ack.error) || message);
      flush();
    });
  }

  function fieldMessage(error) {
    var fields = error && error.details && error.details.fields;
    if (!fields) return "";
    return Object.keys(fields).map(function (k) { return [].concat(fields[k]).join(" "); }).join(" ");
  }

  function say(id, text, isError) {
    var node = byId(id);
    if (!node) return;
    node.textContent = text;
    node.classList.toggle("error", !!isError);
  }

  // ------------------------------------------------------------ votes and moderation (not queued)

  function sendVote(questionId, button) {
    var state = button.parentNode.querySelector(".item-state");
    if (!connected) { state.textContent = t("offline_try_later", "offline — try again when connected"); return; }
    button.disabled = true;
    state.textContent = stateText("sending");
    socket.timeout(ACK_TIMEOUT).emit("vote", { question_id: questionId }, function (err, ack) {
      if (err || !ack) { button.disabled = false; state.textContent = t("not_sent_try_again", "not sent — try again"); return; }
      if (!ack.ok) {
        button.disabled = false;
        state.textContent = (ack.error && ack.error.message) || t("refused", "Refused.");
        return;
      }
      voted[questionId] = true;
      applyQuestion(ack.question, false);
      drawQuestions();
    });
  }

  function sendModeration(questionId, action, button) {
    var state = button.parentNode.querySelector(".item-state");
    if (!connected) { state.textContent = t("offline_try_later", "offline — try again when connected"); return; }
    button.disabled = true;
    state.textContent = stateText("sending");
    socket.timeout(ACK_TIMEOUT).emit("moderate", { question_id: questionId, action: action }, function (err, ack) {
      if (err || !ack) { button.disabled = false; state.textContent = t("not_sent_try_again", "not sent — try again"); return; }
      if (!ack.ok) { button.disabled = false; state.textContent = (ack.error && ack.error.message) || t("refused", "Refused."); return; }
      applyQuestion(ack.question, false);
      drawQuestions();
      say("moderate-status", t("done_" + action, "Done: " + action + "."));
    });
  }

  // ------------------------------------------------------------ forms

  var askForm = byId("ask-form");
  if (askForm) {
    var textarea = byId("ask-text");
    var counter = byId("ask-count");
    var max = config.max_chars;
    var showCount = function () {
      var n = textarea.value.length;
      counter.textContent = t("characters", "{count} / {max} characters", { count: n.toLocaleString(LANG), max: max.toLocaleString(LANG) });
      counter.classList.toggle("error", n > max - 50);
    };
    textarea.addEventListener("input", showCount);
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); askForm.requestSubmit(); }
    });
    askForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = textarea.value.trim();
      if (!text) { say("ask-status", t("write_first", "Write a question first."), true); textarea.focus(); return; }
      if (text.length > max) { say("ask-status", t("too_long", "A question has at most {max} characters.", { max: max.toLocaleString(LANG) }), true); return; }
      var clientId = newClientId();
      var item = { kind: "ask", client_id: clientId, data: { session_id: SID, text: text, client_id: clientId } };
      put(item);
      textarea.value = "";
      showCount();
      say("ask-status", connected ? "" : t("queued_offline", "You are offline; your question is queued and will be sent."));
      itemState(item, "queued");
      flush();
    });
  }

  document.querySelectorAll(".interest-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var clientId = newClientId();
      var note = form.querySelector('[name="note"]');
      var item = {
        kind: "interest", client_id: clientId,
        data: {
          session_id: SID, project_id: parseInt(form.getAttribute("data-project-id"), 10),
          level: form.querySelector('[name="level"]').value, note: note.value.trim(),
          client_id: clientId, at: new Date().toISOString()
        }
      };
      put(item);
      note.value = "";
      itemState(item, "queued");
      flush();
    });
  });

  // Page load: what this person sent before (kept for a while) and what still waits to be sent.
  // (Sent interests show from the server's state, on every device; only refusals are kept here.)
  history().forEach(function (h) {
    if (h.kind === "interest" && h.state === "failed") itemState(h, "failed", h.message);
  });
  outbox().forEach(function (item) { drawOutboxItem(item); itemState(item, "queued"); });

  // ------------------------------------------------------------ the connection

  var socket = io("/live", { reconnectionDelay: 1000, reconnectionDelayMax: 10000 });
  ["question", "presence", "interest_count", "interest", "site_matches", "skip"].forEach(function (name) { socket.on(name, onLive(name)); });
  // This person's own question, vote or interest, made on this or another of their devices.
  socket.on("own_question", function (data) {
    if (!data || data.session_id !== SID) return;
    mine[data.question_id] = true;
    drawQuestions();
  });
  socket.on("own_vote", function (data) {
    if (!data || data.session_id !== SID) return;
    voted[data.question_id] = true;
    drawQuestions();
  });
  socket.on("own_interest", function (data) {
    if (data && data.session_id === SID) addMyInterest(data);
  });
  socket.on("notification", function (data) { document.dispatchEvent(new CustomEvent("cloudfair:notification", { detail: data })); });  // bell.js

  function join() {
    joined = false;
    socket.timeout(ACK_TIMEOUT).emit("join", { session_id: SID, since_seq: lastSeq }, function (err, ack) {
      if (err || !ack) { if (socket.connected) window.setTimeout(join, 2000); return; }
      if (!ack.ok) { say("ask-status", (ack.error && ack.error.message) || t("join_failed", "Could not join the room."), true); return; }
      (ack.mine || []).forEach(function (id) { mine[id] = true; });
      (ack.voted || []).forEach(function (id) { voted[id] = true; });
      if (ack.my_interests) setMyInterests(ack.my_interests);
      if (ack.questions) {  // the full state: too far behind, or the first join
        questions = {};
        ack.questions.forEach(function (q) { questions[q.id] = q; markPersonal(q); });
        morePages = !!ack.questions_more;
        nextPage = 2;
        showMoreLine();
        lastSeq = ack.seq;
      } else {  // exactly the events after our number, up to ack.seq
        (ack.events || []).forEach(function (e) { hold(e.event, e.data); });
        applyHeld(ack.seq);
      }
      // The counts as of ack.seq; later events (held meanwhile) apply on top.
      Object.keys(ack.interest_counts || {}).forEach(function (id) { setCount(id, ack.interest_counts[id]); });
      if (typeof ack.presence === "number") showPresence(ack.presence);
      joined = true;
      drain();  // the join's events, then whatever arrived meanwhile
      rememberSeq(lastSeq);
      drawQuestions();
      flush();
    });
  }

  socket.on("connect", function () {
    connected = true;
    showConnection();
    join();
  });
  socket.on("disconnect", function () {
    connected = false;
    joined = false;
    inFlight = {};  // unanswered sends are resent after the next join
    retryAt = {};
    outbox().forEach(function (item) { itemState(item, "queued"); });
    showConnection();
  });
  socket.on("connect_error", function (error) {
    connected = false;
    showConnection();
    if (error && error.data && error.data.code === "unauthorized") say("ask-status", t("log_in_again", "Log in again to take part."), true);
  });
  // The browser knows first when the network goes: don't wait for the ping to time out.
  window.addEventListener("offline", function () { if (socket.connected) socket.disconnect(); showConnection(); });
  window.addEventListener("online", function () { if (!socket.connected) socket.connect(); });

  drawQuestions();
  showConnection();
})();
