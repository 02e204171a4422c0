// The organiser's page: /o/{orgId}/{eventId}. The organiser's key is typed once and kept in
// sessionStorage (this tab only); the organiser API of the same origin does the rest.
"use strict";

const api = `${base}${eventPath}`; // base, org, event and eventPath: common.js
const REFRESH_MS = 15000;

async function call(path, method = "GET", body) {
  const options = {
    method,
    headers: { "x-api-key": sessionStorage.getItem("snaprace-key") || "", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
  return request(api + path, options, "The request failed", (answer) =>
    answer.status === 401 || answer.status === 403 ? "This key does not open this event: check it and try again." : undefined);
}

function element(tag, text, attributes = {}) {
  const made = document.createElement(tag);
  if (text !== undefined) made.textContent = text;
  Object.assign(made, attributes);
  return made;
}

async function progress() {
  const counts = await call("/progress");
  const shown = [["raw", "uploaded"], ["indexed", "indexed"], ["inFlight", "in flight"], ["rejected", "rejected"], ["failed", "failed"]];
  $("counts").replaceChildren(...shown.map(([name, label]) => {
    const box = element("div");
    box.append(element("b", String(counts[name])), label);
    box.dataset.count = name;
    return box;
  }));
  $("reasons").replaceChildren(...Object.entries(counts.rejectedReasons).map(
    ([reason, n]) => element("li", `${n} rejected: ${reason}`)));
  // a large event is counted in the background: say when these counts were made
  $("counted").textContent = !counts.complete ? "Counting this event's photos: the first count takes a few minutes."
    : `Counted at ${new Date(counts.asOf).toLocaleTimeString()}.`;
}

async function settings() {
  const current = await call("/settings");
  $("published").checked = current.published;
  $("faces").checked = current.faces;
  $("name-search").checked = current.nameSearch;
  $("selfie-mode").value = current.selfieSearch;
  $("bib-range").value = current.bibRange || "";
}

async function saveSettings(submitted) {
  submitted.preventDefault();
  try {
    const saved = await call("/settings", "PUT", {
      published: $("published").checked,
      faces: $("faces").checked,
      nameSearch: $("name-search").checked,
      selfieSearch: $("selfie-mode").value,
      bibRange: $("bib-range").value.trim() || null,
    });
    const deletion = saved.facesDeletion;
    say(`Settings saved${deletion ? `: face search is off, ${deletion.faces} faces deleted; their links on the photos are being removed` : ""}.`);
  } catch (error) {
    say(error.message, true);
  }
}

async function correct(photoId, change) {
  try {
    const done = await call(`/photos/${photoId}/corrections`, "POST", change);
    say(`Saved: bibs ${done.bibs.join(", ") || "none"}.`);
    await queue();
  } catch (error) {
    say(error.message, true);
  }
}

function entry(photo) {
  const item = element("li", undefined, { className: "card" });
  item.dataset.photo = photo.photoId;
  const image = element("img", undefined, { src: photo.thumbnailUrl || "", alt: `Photo ${photo.name}, bibs read: ${photo.bibs.join(", ") || "none"}` });
  const details = element("div");
  details.append(element("strong", photo.name), element("p", `Bibs read: ${photo.bibs.join(", ") || "none"}`, { className: "quiet" }));
  const reasons = element("ul");
  reasons.append(...photo.why.map((why) => element("li", why)));
  const add = element("input", undefined, { placeholder: "bibs to add, e.g. 1234 5678", ariaLabel: `Bibs to add to ${photo.name}` });
  const removals = photo.bibs.map((bib) => {
    const box = element("input", undefined, { type: "checkbox", value: bib });
    const label = element("label", undefined, { className: "check" });
    label.append(box, ` remove ${bib}`);
    return [box, label];
  });
  const save = element("button", "Save", { type: "button" });
  save.addEventListener("click", () => correct(photo.photoId, {
    add: add.value.split(/[\s,]+/).filter(Boolean),
    remove: removals.filter(([box]) => box.checked).map(([box]) => box.value),
  }));
  const accept = element("button", "Reads are right", { type: "button", className: "plain" });
  accept.addEventListener("click", () => correct(photo.photoId, { confirm: true }));
  const actions = element("div", undefined, { className: "row" });
  actions.append(add, save, accept);
  details.append(reasons, ...removals.map(([, label]) => label), actions);
  item.append(image, details);
  return item;
}

async function queue() {
  const listed = await call("/review?limit=50");
  $("queue-count").textContent = `(${listed.count})`;
  $("queue").replaceChildren(...listed.photos.map(entry));
  if (!listed.count) $("queue").append(element("li", "Nothing to review."));
}

async function open() {
  try {
    await Promise.all([progress(), settings(), queue()]);
    $("desk").hidden = false;
    $("key-form").hidden = true;
    say("");
    setInterval(() => document.visibilityState === "visible" && progress().catch(() => {}), REFRESH_MS);
  } catch (error) {
    say(error.message, true);
  }
}

$("event").textContent = `${event} · ${org}`;
$("key-form").addEventListener("submit", (submitted) => {
  submitted.preventDefault();
  sessionStorage.setItem("snaprace-key", $("key").value.trim());
  $("key").value = "";
  open();
});
$("settings").addEventListener("submit", saveSettings);
if (sessionStorage.getItem("snaprace-key")) open();
