// The runner's page: /e/{orgId}/{eventId}[?bib=NNN][#runner=TOKEN]. No framework: the public
// search API of the same origin (docs/api.md), a gallery that loads more as one scrolls.
"use strict";

const api = `${base}/public${eventPath}`; // base, org, event and eventPath: common.js
const runnerToken = new URLSearchParams(location.hash.slice(1)).get("runner");
const BIB = /^#?[A-Za-z]?[0-9]{1,6}$/;
const NAME = /\p{L}.*\p{L}/u; // two letters or more: a name, searched in the timing results
let nameSearch = false; // the organiser's choice (the event's nameSearch): full names only
const MAX_SELFIE_BYTES = 4 * 1024 * 1024;
let cursor = null;
let loading = false;
let galleryOn = false;

async function call(path, options = {}) {
  // the header makes a search a request a browser asks the API about first (pipeline/api/web.py)
  const headers = { "x-snaprace-client": "runner-page", ...(options.headers || {}) };
  return request(api + path, { ...options, headers }, "The search failed", (answer) => {
    if (answer.status === 429) {
      const wait = answer.headers.get("Retry-After") || "60";
      return `Too many searches from here: try again in ${wait} seconds.`;
    }
    if (answer.status >= 500) return "The photo service is busy: try again in a moment.";
    return undefined;
  });
}

function describe(photo) {
  const bibs = photo.bibs.length ? `bib ${photo.bibs.join(", ")}` : "no bib read";
  const when = photo.takenAt ? `, taken ${photo.takenAt.slice(11, 16)}` : "";
  return `Race photo, ${bibs}${when}`;
}

function show(photos, replace) {
  const list = $("photos");
  if (replace) list.replaceChildren();
  for (const photo of photos) {
    const item = document.createElement("li");
    const open = document.createElement("button");
    open.type = "button";
    const image = document.createElement("img");
    image.src = photo.thumbnailUrl;
    image.alt = describe(photo);
    image.loading = "lazy";
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = photo.matchedBy === "selfie" || photo.matchedBy === "face" ? "found by face"
      : photo.matchedBy === "time" ? "found by time" : photo.bibs.join(", ");
    open.append(image, tag);
    open.addEventListener("click", () => view(photo));
    item.append(open);
    list.append(item);
  }
}

function view(photo) {
  $("viewer-img").src = photo.photoUrl;
  $("viewer-img").alt = describe(photo);
  $("download").href = photo.downloadUrl;
  $("viewer").dataset.bib = photo.bibs[0] || "";
  $("viewer").showModal();
}

async function loadMore() {
  if (loading || !galleryOn || cursor === undefined) return;
  loading = true;
  try {
    const page = await call(`/photos?limit=24${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (!galleryOn) return;  // a search started while this page was on its way: its answer stays
    show(page.photos, cursor === null);
    if (cursor === null && !page.photos.length) say("No photos yet: they appear minutes after the photographers upload.");
    cursor = page.nextCursor || undefined;
  } catch (error) {
    if (galleryOn) say(error.message, true);
  } finally {
    loading = false;
  }
}

function gallery() {
  galleryOn = true;
  cursor = null;
  $("results-title").textContent = "Latest photos";
  $("results-title").hidden = false;
  loadMore();
}

async function byName(text) {
  galleryOn = false;
  say("Looking for your name…");
  try {
    const found = await call(`/runners?name=${encodeURIComponent(text.trim())}`);
    if (found.count === 1) {
      $("bib").value = found.runners[0].bib;
      return byBib(found.runners[0].bib);
    }
    $("photos").replaceChildren();
    $("results-title").hidden = true;
    // the API answers one runner or none: a name two runners share is no answer (docs/security.md)
    say(`No single runner named "${text.trim()}" in the results: type your first and last name as you registered, or search by your bib number.`);
  } catch (error) {
    say(error.message, true);
  }
}

function search(text) {
  if (nameSearch && !BIB.test(text.trim()) && NAME.test(text)) return byName(text);
  return byBib(text);
}

async function byBib(text) {
  const bib = text.trim();
  if (!BIB.test(bib)) {
    say(`"${bib}" is not a bib number: type the number printed on your bib, e.g. 1234${nameSearch ? ", or your first and last name" : ""}.`, true);
    return;
  }
  galleryOn = false;
  history.replaceState(null, "", `?bib=${encodeURIComponent(bib.replace("#", ""))}${location.hash}`);
  say("Searching…");
  try {
    const found = await call(`/bibs/${encodeURIComponent(bib.replace("#", ""))}/photos`);
    show(found.photos, true);
    $("results-title").textContent = `Photos of bib ${found.bib}`;
    $("results-title").hidden = !found.photos.length; // an empty list says so in the status line
    if (!found.photos.length) say(`No photos of bib ${found.bib} yet. Photos appear minutes after the photographers upload.`);
    else say(`${found.count} photo${found.count === 1 ? "" : "s"} of bib ${found.bib}.` +
      (found.faceMatchesComplete ? "" : " Some photos found by face may be missing: search again in a minute."));
  } catch (error) {
    say(error.message, true);
  }
}

async function smaller(file) {
  // Phones take photos of 3-12 MB; a 1600 px JPEG is plenty to find a face and well under 4 MB.
  if (file.size <= MAX_SELFIE_BYTES && /^image\/(jpeg|png)$/.test(file.type)) return file;
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
}

async function bySelfie(file) {
  if (!$("consent").checked) {
    say("Tick the box first: your selfie is only sent once you agree.", true);
    return;
  }
  galleryOn = false;
  say("Looking for you…");
  try {
    const image = await smaller(file);
    const bytes = new Uint8Array(await image.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const headers = { "content-type": "application/json" };
    if (runnerToken) headers["x-runner-token"] = runnerToken;
    const found = await call("/selfie-search", {
      method: "POST", headers, body: JSON.stringify({ consent: true, image: btoa(binary) }),
    });
    show(found.photos, true);
    $("results-title").textContent = "Photos of you";
    $("results-title").hidden = !found.photos.length;
    say(found.photos.length ? `${found.count} photo${found.count === 1 ? "" : "s"} with your face.`
      : "No photos with your face yet. Try a bib search, or a selfie facing the camera in good light.");
  } catch (error) {
    say(error.message, true);
  } finally {
    $("selfie").value = "";
  }
}

async function share() {
  const bib = $("viewer").dataset.bib;
  const url = `${location.origin}${location.pathname}${bib ? `?bib=${encodeURIComponent(bib)}` : ""}`; // never the runner link
  if (navigator.share) await navigator.share({ title: document.title, url }).catch(() => {});
  else {
    await navigator.clipboard?.writeText(url).catch(() => {});
    say(`Link copied: ${url}`);
  }
}

async function start() {
  $("event").textContent = `${event.replace(/-/g, " ")} · ${org}`;
  let info;
  try {
    info = await call("");
  } catch (error) {
    say(error.message, true);
    return;
  }
  if (!info.published) {
    $("closed").hidden = false;
    return;
  }
  $("search").hidden = false;
  nameSearch = Boolean(info.nameSearch);
  if (!nameSearch) {
    $("bib-label").textContent = "Your bib number";
    $("bib").placeholder = "e.g. 1234";
  }
  if (!info.faceSearch) {
    $("selfie-off").textContent = "The organiser has turned face search off for this event: search by bib number.";
    $("selfie-off").hidden = false;
  } else if (info.selfieSearch === "verified" && !runnerToken) {
    $("selfie-off").textContent = "Selfie search opens with your personal link from the organiser (check your registration email).";
    $("selfie-off").hidden = false;
  } else {
    $("selfie-box").hidden = false;
  }
  $("consent").addEventListener("change", () => {
    $("selfie").disabled = !$("consent").checked;
    $("selfie-button").classList.toggle("disabled", !$("consent").checked);
  });
  $("selfie").addEventListener("change", () => $("selfie").files[0] && bySelfie($("selfie").files[0]));
  $("bib-form").addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    search($("bib").value);
  });
  $("close").addEventListener("click", () => $("viewer").close());
  $("share").addEventListener("click", share);
  new IntersectionObserver((seen) => seen[0].isIntersecting && loadMore()).observe($("more"));
  const bib = new URLSearchParams(location.search).get("bib");
  if (bib) {
    $("bib").value = bib;
    byBib(bib);
  } else gallery();
}

start();
