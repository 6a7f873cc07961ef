// Reads .ics files with ical.js (Thunderbird's parser) and node-ical, and prints for each parser
// the events' UID → {start, end} as UTC ISO instants (all-day events: {date, end_date}).
// Usage: node read_feeds.mjs feed1.ics feed2.ics … → {"ical.js": {file: {uid: …}}, "node-ical": {…}}
import { readFileSync } from "node:fs";
import ICAL from "ical.js";
import nodeIcal from "node-ical";

const iso = (date) => date.toISOString().replace(".000Z", "Z");

function withIcalJs(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  // The feed's own VTIMEZONEs, as Thunderbird uses them: the zone rules come from the feed.
  ICAL.TimezoneService.reset();
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  const out = {};
  for (const vevent of calendar.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const start = event.startDate;
    const end = event.endDate;
    out[event.uid] = start.isDate
      ? { date: start.toString(), end_date: end.toString() }
      : { start: iso(start.toJSDate()), end: iso(end.toJSDate()) };
  }
  return out;
}

function withNodeIcal(text) {
  const parsed = nodeIcal.sync.parseICS(text);
  const out = {};
  for (const item of Object.values(parsed)) {
    if (item.type !== "VEVENT") continue;
    if (item.datetype === "date" || item.start.dateOnly) {
      const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
      out[item.uid] = { date: day(item.start), end_date: day(item.end) };
    } else {
      out[item.uid] = { start: iso(item.start), end: iso(item.end) };
    }
  }
  return out;
}

const result = { "ical.js": {}, "node-ical": {} };
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, "utf8");
  result["ical.js"][file] = withIcalJs(text);
  result["node-ical"][file] = withNodeIcal(text);
}
process.stdout.write(JSON.stringify(result));
