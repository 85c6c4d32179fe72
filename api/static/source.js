// The source panel: a citation chip opens it on the passage around the cited sentence (GET /documents/{doc_id},
// fetched once per document), the sentence in a <mark>; Escape or × closes it. Loaded after app.js,
// whose $, el and request it uses. Document text goes in as text nodes only.
"use strict";

const CONTEXT_CHARS = 320;  // at most this much text either side of the cited sentence
const CONTEXT_MIN = 160;    // a paragraph adding less than this around the sentence borrows its neighbours

const panelState = { opener: null, seq: 0 };  // seq: a newer click wins over a slower earlier fetch
const documents = new Map();  // doc_id -> Promise of GET /documents/{doc_id}

// GET /documents/{doc_id}, once per document; a failure is forgotten so a later click retries.
function fetchDocument(docId, fresh) {
  if (fresh || !documents.has(docId)) {
    const path = docId.split("/").map(encodeURIComponent).join("/");
    const pending = request(`/documents/${path}`).then((response) => {
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      return response.json();
    });
    pending.catch(() => { if (documents.get(docId) === pending) documents.delete(docId); });
    documents.set(docId, pending);
  }
  return documents.get(docId);
}

// Citations count characters (code points, as Python does); JavaScript strings count UTF-16 units, two for an emoji.
function utf16Offset(text, codePoints) {
  let units = 0;
  for (let i = 0; i < codePoints && units < text.length; i += 1) {
    units += text.codePointAt(units) > 0xffff ? 2 : 1;
  }
  return units;
}

// The cited document and the sentence's [start, end) in its string, if it still holds the sentence there (a
// re-upload may have moved it).
async function citedDocument(citation) {
  for (const fresh of [false, true]) {
    const doc = await fetchDocument(citation.doc_id, fresh);
    const start = utf16Offset(doc.text, citation.start);
    const end = start + citation.text.length;
    if (doc.text.slice(start, end) === citation.text) return { doc, start, end };
  }
  return null;
}

// Paragraphs are separated by blank lines; these give the bounds of the one holding position i.
function paragraphStart(text, i) {
  const cut = text.lastIndexOf("\n\n", i - 2);
  return cut < 0 ? 0 : Math.min(cut + 2, i);
}

function paragraphEnd(text, i) {
  const cut = text.indexOf("\n\n", i);
  return cut < 0 ? text.length : cut;
}

// What to show around [start, end): its paragraph (with the neighbours when it is the sentence alone),
// at most CONTEXT_CHARS either side, cut at a space. `clipped*` say whether a paragraph was cut.
function contextRange(text, start, end) {
  let from = paragraphStart(text, start);
  let to = paragraphEnd(text, end);
  if (start - from + (to - end) < CONTEXT_MIN) {
    if (from > 0) from = paragraphStart(text, from - 2);
    if (to < text.length) to = paragraphEnd(text, to + 2);
  }
  const lo = start - CONTEXT_CHARS;
  const hi = end + CONTEXT_CHARS;
  const clippedStart = from < lo;
  const clippedEnd = to > hi;
  if (clippedStart) {
    const space = text.indexOf(" ", lo);
    from = space < 0 || space >= start ? lo : space + 1;
  }
  if (clippedEnd) {
    const space = text.lastIndexOf(" ", hi);
    to = space <= end ? hi : space;
  }
  return { from, to, clippedStart, clippedEnd };
}

// The passage around the cited sentence, the sentence in a <mark>; all text nodes.
// Markdown heading marks ("## History") read as noise around the passage; the words stay.
function unmarked(context) {
  return context.replace(/^[ \t]{0,3}#{1,6}[ \t]+/gm, "");
}

function renderPassage(node, text, start, end) {
  const { from, to, clippedStart, clippedEnd } = contextRange(text, start, end);
  const before = (clippedStart ? "…" : "") + unmarked(text.slice(from, start)).trimStart();
  const after = unmarked(text.slice(end, to)).trimEnd() + (clippedEnd ? "…" : "");
  const mark = el("mark", "", text.slice(start, end));
  node.replaceChildren(document.createTextNode(before), mark, document.createTextNode(after));
  return mark;
}

function sourceDocLine(citation, date) {
  return [citation.doc_id, date, `chunk ${citation.chunk_id}`, `chars ${citation.start}–${citation.end}`]
    .filter(Boolean).join(" · ");
}

// Bring the highlighted sentence into the panel's view without scrolling the page.
function revealMark(panel, mark) {
  const offset = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  panel.scrollTop += offset - panel.clientHeight / 3;
}

async function showSource(citation, button) {
  const panel = $("#source");
  const passage = panel.querySelector(".source-text");
  const seq = ++panelState.seq;
  panel.querySelector(".source-n").textContent = `Source [${citation.n}]`;
  panel.querySelector(".source-title").textContent = citation.title;
  panel.querySelector(".source-doc").textContent = sourceDocLine(citation);
  passage.textContent = citation.text;  // at once; the surrounding passage replaces it when it arrives
  panel.dataset.context = "loading";
  panel.hidden = false;
  panel.scrollTop = 0;
  document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
  if (button) button.classList.add("active");
  panelState.opener = button || null;
  panel.focus({ preventScroll: true });
  const found = await citedDocument(citation).catch(() => null);
  if (seq !== panelState.seq || panel.hidden) return;
  panel.dataset.context = found ? "passage" : "sentence";
  if (!found) return;
  panel.querySelector(".source-doc").textContent = sourceDocLine(citation, found.doc.date);
  revealMark(panel, renderPassage(passage, found.doc.text, found.start, found.end));
}

// Closing gives the focus back to the chip that opened the panel, unless it has moved elsewhere meanwhile.
function closeSource() {
  const panel = $("#source");
  if (panel.hidden) return;
  const focusWasHere = panel.contains(document.activeElement) || document.activeElement === document.body;
  panel.hidden = true;
  panelState.seq += 1;
  document.querySelectorAll(".cite.active").forEach((b) => b.classList.remove("active"));
  if (focusWasHere && panelState.opener && panelState.opener.isConnected) panelState.opener.focus();
  panelState.opener = null;
}
