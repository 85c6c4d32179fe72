// Chat page: POST /chat with stream:true, parse the SSE stream by hand (EventSource cannot POST),
// keep the history client-side. Every piece of server or document text goes in via textContent.
"use strict";

const state = { history: [], busy: false };
const $ = (selector) => document.querySelector(selector);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// Yields {event, data} for each SSE message in a fetch() response body.
async function* sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
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
  window.scrollTo({ top: document.body.scrollHeight, behavior: "smooth" });
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

function showSource(citation, button) {
  const panel = $("#source");
  panel.querySelector(".source-n").textContent = `Source [${citation.n}]`;
  panel.querySelector(".source-title").textContent = citation.title;
  panel.querySelector(".source-doc").textContent = `${citation.doc_id} · chunk ${citation.chunk_id} · chars ${citation.start}–${citation.end}`;
  panel.querySelector(".source-text").textContent = citation.text;
  panel.hidden = false;
  document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
  if (button) button.classList.add("active");
}

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

function renderSources(item, citations) {
  if (!citations.length) return;
  const list = el("ol", "sources");
  for (const c of citations) {
    const row = el("li");
    row.append(citeButton(c), el("span", "title", c.title));
    list.append(row);
  }
  item.append(list);
}

async function send(question) {
  state.busy = true;
  $("#send").disabled = true;
  const userTurn = { role: "user", content: question };
  state.history.push(userTurn);
  addMessage("user").body.textContent = question;
  const { item, body } = addMessage("assistant");
  item.classList.add("pending");
  let text = "";
  let meta = null;
  try {
    const response = await fetch("/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify({ messages: state.history, stream: true }),
    });
    if (!response.ok) {
      const payload = await response.json().catch(() => null);
      throw new Error(payload?.error?.message || `the server answered ${response.status}`);
    }
    item.classList.replace("pending", "streaming");
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
    if (!meta) throw new Error("the answer stream ended early");
    item.classList.remove("streaming");
    if (meta.abstained) {
      item.classList.add("abstained");
      item.prepend(el("span", "badge", "No answer in the articles"));
      body.textContent = text;
    } else {
      if (meta.short_answer) {
        // A low-confidence short answer was chosen among rivals: shown as a guess, the cited sentence decides.
        const unsure = meta.short_answer_confidence === "low";
        const short = el("p", unsure ? "short unsure" : "short");
        short.append(el("span", "label", unsure ? "Short answer · uncertain" : "Short answer"),
          el("strong", "", meta.short_answer));
        if (unsure) short.title = "Picked among several candidates in the cited sentence; check it against the sentence.";
        item.prepend(short);
      }
      renderAnswer(body, text, meta.citations);
      renderSources(item, meta.citations);
    }
    if (meta.question && meta.question !== question.trim()) {
      item.append(el("div", "rewrite", `Searched for: ${meta.question}`));
    }
    state.history.push({ role: "assistant", content: text });
  } catch (error) {
    state.history.splice(state.history.indexOf(userTurn), 1);  // a failed turn is not part of the history
    item.classList.remove("pending", "streaming");
    item.classList.add("error");
    body.textContent = `Error: ${error.message}`;
  } finally {
    item.dataset.done = "true";
    state.busy = false;
    $("#send").disabled = false;
    scrollToEnd();
  }
}

async function pollReady() {
  const status = $("#status");
  try {
    const response = await fetch("/readyz");
    const payload = await response.json();
    if (response.ok) {
      status.className = "status ready";
      status.textContent = `ready · ${payload.documents} document${payload.documents === 1 ? "" : "s"}, ${payload.chunks} passages`;
      return;
    }
    status.className = "status down";
    status.textContent = `not ready: ${payload.reason}`;
  } catch {
    status.className = "status down";
    status.textContent = "server unreachable";
  }
  setTimeout(pollReady, 2000);
}

function autosize(area) {
  area.style.height = "auto";
  area.style.height = `${Math.min(area.scrollHeight, 160)}px`;
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
  $("#source-close").addEventListener("click", () => { $("#source").hidden = true; });
  $("#new-chat").addEventListener("click", () => {
    state.history = [];
    $("#log").replaceChildren();
    $("#empty").hidden = false;
    $("#source").hidden = true;
    area.focus();
  });
  area.focus();
  pollReady();
});
