// What the runner's page and the organiser's page share, loaded before each page's own script:
// the element lookup, the status line, the event the address names, and the API call.
"use strict";

const $ = (id) => document.getElementById(id);

// /e/{orgId}/{eventId} or /o/{orgId}/{eventId}; the API's base is what precedes /e/ or /o/: the
// root on AWS, a path on the local stack
const [, base, org, event] = location.pathname.match(/^(.*)\/[eo]\/([^/]+)\/([^/]+)\/?$/).map(decodeURIComponent);
const eventPath = `/orgs/${encodeURIComponent(org)}/events/${encodeURIComponent(event)}`;

function say(text, bad = false) {
  $("status").textContent = text;
  $("status").className = bad ? "bad" : "";
}

// The API's JSON answer, or an Error the status line shows: the page's own sentence for the status
// (`explain` returns it, or nothing), else the API's message, else `failed` and the status.
async function request(url, options, failed, explain) {
  const answer = await fetch(url, options);
  const body = await answer.json().catch(() => ({}));
  const sentence = explain(answer);
  if (sentence) throw new Error(sentence);
  if (!answer.ok) throw new Error(body.message || `${failed} (${answer.status}).`);
  return body;
}
