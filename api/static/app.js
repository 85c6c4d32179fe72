// Chat page: POST /chat with stream:true, parse the SSE stream by hand (EventSource cannot POST),
// keep the history client-side, watch /readyz. The source panel lives in source.js.
// Every piece of server or document text goes in via textContent.
"use strict";

const POLL_READY_MS = 12000;  // while ready: notice a stopped server or a changed index
const POLL_RETRY_MS = 3000;   // while loading, not ready or unreachable

// generation counts conversations: a request that outlives its conversation ("New chat") changes nothing.
const state = { history: [], busy: false, generation: 0, controller: null, pollTimer: 0, pollSeq: 0 };
const $ = (selector) => document.querySelector(selector);

// A request that never reached the server, or whose connection broke.
class Unreachable extends Error {}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// Network failures become Unreachable; an abort (New chat) stays an AbortError.
function unreachable(error) {
  return error.name === "AbortError" ? error : new Unreachable(error.message);
}

async function request(url, options) {
  try {
    return await fetch(url, options);
  } catch (error) {
    throw unreachable(error);
  }
}

// Yields {event, data} for each SSE message in a fetch() response body.
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read().catch((error) => { throw unreachable(error); });
    if (done) break;
    buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

function scrollToEnd() {
  window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "smooth" });
}

function addMessage(role) {
  $("#empty").hidden = true;
  const item = el("li", `msg ${role}`);
  const body = el("div", "body");
  item.append(body);
  $("#log").append(item);
  scrollToEnd();
  return { item, body };
}

// --- answers ----------------------------------------------------------------------------------

function citeButton(citation) {
  const button = el("button", "cite", citation.n);
  button.type = "button";
  button.dataset.n = String(citation.n);
  button.title = citation.title;
  button.setAttribute("aria-label", `Show source ${citation.n}: ${citation.title}`);
  button.addEventListener("click", () => showSource(citation, button));
  return button;
}

// Replace each [n] of the final text by a button that opens citation n (unknown numbers stay text).
function renderAnswer(body, text, citations) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const marker = /\[(\d+)\]/g;
  body.replaceChildren();
  let last = 0;
  let match;
  while ((match = marker.exec(text)) !== null) {
    body.append(document.createTextNode(text.slice(last, match.index)));
    const citation = byN.get(Number(match[1]));
    body.append(citation ? citeButton(citation) : document.createTextNode(match[0]));
    last = marker.lastIndex;
  }
  body.append(document.createTextNode(text.slice(last)));
}

// One row per source: its cited sentence (what tells [1] from [2]), the article title below, smaller.
function renderSources(item, citations) {
  if (!citations.length) return;
  const list = el("ol", "sources");
  for (const c of citations) {
    const ref = el("div", "ref");
    ref.append(el("span", "snippet", c.text), el("span", "title", c.title));
    const row = el("li");
    row.append(citeButton(c), ref);
    list.append(row);
  }
  item.append(list);
}

function shortAnswer(text) {
  const short = el("p", "short");
  short.append(el("span", "label", "Short answer"), el("strong", "", text));
  return short;
}

function showAnswer(item, body, text, meta, question) {
  item.classList.remove("pending", "streaming");
  if (meta.abstained) {
    item.classList.add("abstained");
    item.prepend(el("span", "badge", "No answer in the articles"));
    body.textContent = text;
  } else {
    // Only a short answer the cited sentence settles is shown: the "low" ones are wrong more often than not.
    if (meta.short_answer && meta.short_answer_confidence === "high") item.prepend(shortAnswer(meta.short_answer));
    renderAnswer(body, text, meta.citations);
    renderSources(item, meta.citations);
  }
  if (meta.question && meta.question !== question.trim()) {
    item.append(el("div", "rewrite", rewriteNote(meta.question, question)));
  }
}

// How a follow-up was read: the offline rule prefixes the earlier question's words ("purpose parade: Who led ...?"),
// an LLM rewrites the whole question.
function rewriteNote(searched, asked) {
  const own = asked.trim().replace(/^(and what about|and how about|what about|how about|and|but|also|so|then|ok|okay)\b[\s,]*/i, "");
  const cut = searched.length - own.length - 2;
  if (own && cut > 0 && searched.slice(cut).toLowerCase() === `: ${own}`.toLowerCase()) {
    return `Read with the earlier question's words: ${searched.slice(0, cut)}`;
  }
  return `Searched for: ${searched}`;
}

// Streams one answer into the item; resolves to {text, meta} or throws (Unreachable, Error, AbortError).
async function streamAnswer(messages, item, body, signal) {
  const response = await request("/chat", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
    body: JSON.stringify({ messages, stream: true }),
    signal,
  });
  if (!response.ok) {
    const payload = await response.json().catch(() => null);
    throw new Error(payload?.error?.message || `the server answered ${response.status}`);
  }
  item.classList.replace("pending", "streaming");
  let text = "";
  let meta = null;
  for await (const { event, data } of sseEvents(response)) {
    if (event === "delta") {
      text += JSON.parse(data).text;
      item.dataset.pieces = String(Number(item.dataset.pieces || 0) + 1);
      body.textContent = text;
      scrollToEnd();
    } else if (event === "citations") {
      meta = JSON.parse(data);
    } else if (event === "error") {
      throw new Error(JSON.parse(data).error.message);
    } else if (event === "done") {
      break;
    }
  }
  if (!meta) throw new Unreachable("the answer stream ended early");
  return { text, meta };
}

// Puts an unanswered question back in the box, unless something new was typed meanwhile.
function restoreQuestion(question) {
  const area = $("#question");
  if (area.value.trim()) return false;
  area.value = question;
  autosize(area);
  area.focus();
  return true;
}

function showFailure(item, userItem, error, question) {
  const restored = restoreQuestion(question);
  const reason = error instanceof Unreachable ? "Could not reach the server" : `The server could not answer: ${error.message}`;
  item.classList.remove("pending", "streaming");
  item.classList.add("error");
  item.querySelector(".body").textContent = `${reason} — ${restored ? "your question is back in the box" : "your question was not sent"}.`;
  userItem.classList.add("unsent");
}

function setBusy(busy) {
  state.busy = busy;
  $("#send").disabled = busy;
}

async function send(question) {
  const generation = state.generation;
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  const turn = { role: "user", content: question };
  const user = addMessage("user");
  user.body.textContent = question;
  const { item, body } = addMessage("assistant");
  item.classList.add("pending");
  try {
    const { text, meta } = await streamAnswer([...state.history, turn], item, body, controller.signal);
    if (generation !== state.generation) return;
    showAnswer(item, body, text, meta, question);
    state.history.push(turn, { role: "assistant", content: text });
  } catch (error) {
    if (generation !== state.generation) return;  // that conversation was cleared: nothing to report
    showFailure(item, user.item, error, question);
    checkReady();  // a failed request is the first sign of a stopped server
  } finally {
    if (generation === state.generation) {
      item.dataset.done = "true";
      state.controller = null;
      setBusy(false);
      scrollToEnd();
    }
  }
}

function newChat() {
  state.generation += 1;
  if (state.controller) state.controller.abort();
  state.controller = null;
  state.history = [];
  setBusy(false);
  $("#log").replaceChildren();
  closeSource();
  $("#empty").hidden = false;
  $("#question").focus();
}

// --- readiness --------------------------------------------------------------------------------

// Touches the live region only on a change, so screen readers do not hear "ready" every few seconds.
function setStatus(kind, text) {
  const status = $("#status");
  if (status.className !== `status ${kind}`) status.className = `status ${kind}`;
  if (status.textContent !== text) status.textContent = text;
}

// GET /readyz now and then for good: ready (green), loading (amber), not ready or unreachable (red).
async function checkReady() {
  const seq = ++state.pollSeq;
  clearTimeout(state.pollTimer);
  let kind = "offline";
  let text = "server unreachable · reconnecting…";
  try {
    // a server that accepts the connection but never answers must not stop the polling for good
    const response = await request("/readyz", { cache: "no-store", signal: AbortSignal.timeout(5000) });
    const payload = await response.json();
    if (response.ok) {
      kind = "ready";
      text = `ready · ${plural(payload.documents, "document")}, ${plural(payload.chunks, "passage")}`;
    } else if (response.status === 429) {
      [kind, text] = ["loading", "too many requests · retrying…"];  // the rate limit, not the server, says wait
    } else if (String(payload.reason).startsWith("loading")) {
      [kind, text] = ["loading", "loading the model and the index…"];
    } else {
      [kind, text] = ["down", `not ready: ${payload.reason}`];
    }
  } catch {
    // unreachable, or not our server's JSON: both mean "try again soon"
  }
  if (seq !== state.pollSeq) return;  // a newer check has started
  setStatus(kind, text);
  state.pollTimer = setTimeout(checkReady, kind === "ready" ? POLL_READY_MS : POLL_RETRY_MS);
}

// --- wiring -----------------------------------------------------------------------------------

function autosize(area) {
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight, 160)}px`;
}

// The phone's source sheet sits above the composer, whose height grows with the question.
function trackComposerHeight(form) {
  const update = () => document.documentElement.style.setProperty("--composer-h", `${form.offsetHeight}px`);
  new ResizeObserver(update).observe(form);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = $("#composer");
  const area = $("#question");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = area.value.trim();
    if (!question || state.busy) return;
    area.value = "";
    autosize(area);
    send(question);
  });
  area.addEventListener("input", () => autosize(area));
  area.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !$("#source").hidden) {
      event.preventDefault();
      closeSource();
    }
  });
  $("#source-close").addEventListener("click", closeSource);
  $("#new-chat").addEventListener("click", newChat);
  trackComposerHeight(form);
  area.focus();
  checkReady();
});
