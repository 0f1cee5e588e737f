// The reader (see __init__.py): transcript paragraphs, the spoken words highlighted and followed, click to play,
// find-in-transcript. Streamlit calls the default export on every render; the DOM is built once per interview
// and kept on the root element, so reruns (a rename, a write-up) never redraw a 3-hour transcript.

const TICK_MS = 200; // how often the playing position is read: smooth enough for word highlights
const QUIET_AFTER_SCROLL_MS = 4000; // a reader who scrolls away is not pulled back while they look around

const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const clock = (t) => {
  const s = Math.floor(t), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

// Redraw only when the transcript itself changed: another interview, more segments, a speaker renamed.
const signature = (data) => `${data.id}:${data.paras.reduce((n, p) => n + p.s.length, 0)}:` +
  data.paras.map((p) => p.who).join("|");

function build(root, data) {
  const segs = []; // [start, end, text, words, paragraph index]
  const html = data.paras.map((p, i) => {
    const spans = p.s.map((s) => {
      segs.push([s[0], s[1], s[2], s[3], i]);
      return `<span class="or-seg" data-i="${segs.length - 1}">${esc(s[2])}</span>`;
    });
    const who = p.who ? `<span class="or-who" title="Rename this speaker">${esc(p.who)}</span>` : "";
    return `<div class="or-para" data-i="${i}" data-start="${p.s[0][0]}"><div class="or-head">${who}` +
      `<a class="or-time" data-t="${p.s[0][0]}" title="Play from here">${clock(p.s[0][0])}</a></div>` +
      `<p>${spans.join(" ")}</p></div>`;
  });
  root.innerHTML =
    `<div class="or-find"><input type="search" placeholder="Find in transcript" aria-label="Find in transcript">` +
    `<span class="or-count"></span><button class="or-prev" title="Previous match (Shift+Enter)">↑</button>` +
    `<button class="or-next" title="Next match (Enter)">↓</button></div>` +
    `<div class="or-pane" tabindex="-1">${html.join("") || '<p class="or-empty">This transcript is empty.</p>'}</div>`;
  const state = {
    signature: signature(data), segs, root, pane: root.querySelector(".or-pane"), current: -1, word: -1,
    query: "", matches: [], match: -1, scrolledAt: 0, cue: undefined, seekN: undefined, data,
  };
  wire(state);
  return state;
}

function wire(state) {
  const { root, pane } = state;
  pane.addEventListener("click", (e) => {
    const who = e.target.closest(".or-who");
    if (who) return state.named(who.textContent); // the page asks for the speaker's name
    const time = e.target.closest(".or-time");
    const seg = e.target.closest(".or-seg");
    if (time) seek(state, parseFloat(time.dataset.t), true);
    else if (seg && !window.getSelection().toString()) seek(state, state.segs[+seg.dataset.i][0], true);
  });
  pane.addEventListener("wheel", () => (state.scrolledAt = Date.now()), { passive: true });
  pane.addEventListener("touchmove", () => (state.scrolledAt = Date.now()), { passive: true });
  const input = root.querySelector(".or-find input");
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => find(state, input.value), 150);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      step(state, e.shiftKey ? -1 : 1);
    }
  });
  root.querySelector(".or-next").addEventListener("click", () => step(state, 1));
  root.querySelector(".or-prev").addEventListener("click", () => step(state, -1));
}

function media(state) {
  const key = state.data.player;
  return key ? document.querySelector(`.st-key-${key} audio, .st-key-${key} video`) : null;
}

function indexAt(state, t) {
  let lo = 0, hi = state.segs.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (state.segs[mid][0] <= t + 0.05) { found = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return found;
}

function seek(state, t, play) {
  const m = media(state);
  if (m) {
    m.currentTime = t;
    if (play) m.play().catch(() => {}); // a browser that refuses leaves the player cued there
  } else if (state.data.remote && play) {
    state.clicked(t); // an embed the page cannot drive from here (YouTube): Python redraws it at t
  }
  state.pane.querySelector(".or-para.or-cued")?.classList.remove("or-cued"); // the linked moment is left behind
  show(state, indexAt(state, t), true);
  const url = new URL(window.location.href);
  url.searchParams.set("t", String(Math.floor(t)));
  window.history.replaceState(window.history.state, "", url); // the moment can be copied and shared
}

// Highlight segment i (and its word at time t when words are known); bring it into view when asked.
function show(state, i, reveal, t) {
  if (i !== state.current) {
    const old = state.pane.querySelector(".or-seg.or-now");
    if (old) { old.classList.remove("or-now"); render(state, +old.dataset.i, -1); }
    state.pane.querySelector(".or-para.or-here")?.classList.remove("or-here");
    state.current = i;
    state.word = -1;
    if (i < 0) return;
    const el = segEl(state, i);
    el.classList.add("or-now");
    el.closest(".or-para").classList.add("or-here");
    if (reveal || Date.now() - state.scrolledAt > QUIET_AFTER_SCROLL_MS) scrollTo(state, el);
  }
  if (t !== undefined && i >= 0) {
    const words = state.segs[i][3];
    let w = -1;
    for (let k = 0; k < words.length && words[k][0] <= t + 0.05; k++) w = k;
    if (w !== state.word) { state.word = w; render(state, i, w); }
  }
}

const segEl = (state, i) => state.pane.querySelector(`.or-seg[data-i="${i}"]`);

function scrollTo(state, el) {
  const pane = state.pane, top = el.offsetTop; // the pane is the offsetParent (position: relative)
  if (top < pane.scrollTop + 40 || top > pane.scrollTop + pane.clientHeight - 80) {
    pane.scrollTo({ top: Math.max(0, top - pane.clientHeight / 3), behavior: "smooth" });
  }
}

// A segment's text: word by word while it is being spoken (when word times are known), else with find marks.
function render(state, i, word) {
  const [, , text, words] = state.segs[i];
  const el = segEl(state, i);
  if (word >= 0 && words.length) {
    el.innerHTML = words.map((w, k) => `<span class="or-word${k === word ? " or-word-now" : ""}">${esc(w[1])}</span>`)
      .join("");
  } else if (state.query && text.toLowerCase().includes(state.query)) {
    el.innerHTML = marked(text, state.query);
  } else {
    el.textContent = text;
  }
}

function marked(text, query) {
  const lower = text.toLowerCase();
  let out = "", at = 0, hit;
  while ((hit = lower.indexOf(query, at)) >= 0) {
    out += esc(text.slice(at, hit)) + `<mark class="or-match">${esc(text.slice(hit, hit + query.length))}</mark>`;
    at = hit + query.length;
  }
  return out + esc(text.slice(at));
}

function find(state, raw) {
  const query = raw.trim().toLowerCase();
  const before = state.query;
  state.query = query;
  state.segs.forEach((s, i) => {
    const lower = s[2].toLowerCase();
    if ((before && lower.includes(before)) || (query && lower.includes(query))) render(state, i, -1);
  });
  state.word = -1;
  state.matches = [...state.pane.querySelectorAll("mark.or-match")];
  state.match = -1;
  if (state.matches.length) step(state, 1);
  else count(state);
}

function step(state, by) {
  if (!state.matches.length) return;
  state.matches[state.match]?.classList.remove("or-match-now");
  state.match = (state.match + by + state.matches.length) % state.matches.length;
  const el = state.matches[state.match];
  el.classList.add("or-match-now");
  state.scrolledAt = Date.now();
  const pane = state.pane;
  pane.scrollTo({ top: Math.max(0, el.offsetTop - pane.clientHeight / 3), behavior: "smooth" });
  count(state);
}

function count(state) {
  const shown = state.query ? `${state.matches.length ? state.match + 1 : 0} of ${state.matches.length}` : "";
  state.root.querySelector(".or-count").textContent = shown;
}

// Follow the player: which segment and word are being spoken now.
function follow(state) {
  const m = media(state);
  if (!m || m.paused || m.seeking) return;
  show(state, indexAt(state, m.currentTime), false, m.currentTime);
}

export default function ({ parentElement, data, setTriggerValue }) {
  const root = parentElement.querySelector(".or-reader");
  let state = root.__reader;
  if (!state || state.signature !== signature(data)) state = root.__reader = build(root, data);
  state.data = data;
  state.clicked = (t) => setTriggerValue("clicked", t);
  state.named = (speaker) => setTriggerValue("speaker", speaker);
  if (data.cue !== null && data.cue !== state.cue) {
    state.cue = data.cue;
    const i = indexAt(state, data.cue);
    show(state, i, true);
    if (i >= 0) segEl(state, i).closest(".or-para").classList.add("or-cued");
  }
  if (data.seek && data.seek.n !== state.seekN) {
    state.seekN = data.seek.n;
    const { t, play } = data.seek;
    // The player may be drawn a moment after the reader: wait for it, then move it.
    const started = Date.now();
    const go = () => (media(state) || !data.player || Date.now() - started > 3000 ? seek(state, t, play)
      : setTimeout(go, 50));
    go();
  }
  const ticker = setInterval(() => follow(state), TICK_MS);
  return () => clearInterval(ticker);
}
