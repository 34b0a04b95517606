// minigrad's graph explorer: steps through the forward pass, then the backward pass, of the
// graph drawn above. All numbers come formatted from Python (the data block); this script only
// shows them, highlights what a step touches and fills in the .grad lines of the nodes. The page
// runs it, after panels.js, inside one function in strict mode: nothing becomes a global.
const D = JSON.parse(document.getElementById("mg-data").textContent);
const F = D.forward.length;
const B = D.backward.length;
const LAST = F + B;
const svg = document.querySelector("#mg-graph svg");
const byId = new Map(D.nodes.map((n) => [n.id, n]));
let pos = 0;
let timer = null;
let selected = null;
let marked = [];
let zoom = 0; // 0: fit the width; otherwise a factor of the natural size
const MIN_FIT = 0.6;

// ----- small DOM helpers -------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
const num = (text) => h("span", { class: "mg-formula" }, text);
const svgEl = (id) => (svg && id ? document.getElementById(id) : null);

// ----- the node labels: data and grad lines ------------------------------------------------
const lines = new Map(); // node id -> {data: <text>, grad: <text>}
if (svg) {
  for (const node of D.nodes) {
    const g = svgEl(node.id);
    if (!g) continue;
    const texts = g.querySelectorAll("text");
    if (texts.length < 3) continue;
    const data = texts[texts.length - 2];
    const grad = texts[texts.length - 1];
    data.classList.add("mg-value");
    grad.classList.add("mg-value");
    lines.set(node.id, { data, grad });
  }
}

function gradAt(node, step) {
  let found = null;
  for (const [s, value] of node.grads) {
    if (s <= step) found = [s, value];
    else break;
  }
  return found;
}

// What each label shows now, so a step rewrites only the lines it changes (rewriting every
// text of a big SVG makes the browser lay it all out again).
const shown = new Map();

function paintLabels() {
  const b = pos - F;
  for (const node of D.nodes) {
    const line = lines.get(node.id);
    if (!line) continue;
    const known = node.forward === 0 || node.forward <= pos;
    const grad = b > 0 ? gradAt(node, b) : null;
    const state = [
      "data " + (known ? node.data.text : "\u00b7"),
      "grad " + (grad ? grad[1].text : "\u00b7"),
      !!grad && grad[0] === b,
    ];
    const before = shown.get(node.id);
    if (before && before.every((x, k) => x === state[k])) continue;
    shown.set(node.id, state);
    line.data.textContent = state[0];
    line.data.style.fill = known ? "" : "#9aa4ae";
    line.grad.textContent = state[1];
    line.grad.style.fill = grad ? "" : "#9aa4ae";
    line.grad.classList.toggle("mg-fresh", state[2]);
  }
}

// ----- highlighting ------------------------------------------------------------------------
function mark(id, cls) {
  const el = svgEl(id);
  if (el) {
    el.classList.add(cls);
    marked.push([el, cls]);
  }
}

function paintHighlights(step, phase) {
  for (const [el, cls] of marked) el.classList.remove(cls);
  marked = [];
  if (!svg) return;
  svg.classList.toggle("mg-fwd", phase === "fwd");
  if (!step) return;
  for (const id of step.edges) mark(id, "mg-flow");
  for (const input of step.inputs) mark(input.node, "mg-input");
  mark(step.node, "mg-active");
  if (step.node) mark("o" + step.node.slice(1), "mg-active");
  const active = svgEl(step.node);
  if (active && zoom) active.scrollIntoView({ block: "nearest", inline: "nearest" });
}

// ----- moving through the steps ------------------------------------------------------------
function go(p) {
  pos = Math.max(0, Math.min(LAST, p));
  const [phase, step] = phaseOf(pos);
  paintCounter(phase);
  paintStep(phase, step);
  paintLabels();
  paintHighlights(step, phase);
  paintTable();
  paintDetails();
  document.getElementById("mg-slider").value = String(pos);
  if (pos === LAST) stop();
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  document.getElementById("mg-play").textContent = "\u25b6 play";
}

function play() {
  if (timer !== null) return stop();
  if (pos === LAST) go(0);
  document.getElementById("mg-play").textContent = "\u275a\u275a pause";
  timer = setInterval(() => go(pos + 1), 900);
}

function setZoom(z) {
  if (!svg) return;
  zoom = z;
  const box = svg.viewBox.baseVal;
  svg.style.width = zoom ? Math.round(((box.width * 4) / 3) * zoom) + "px" : "100%";
}

function wire() {
  const on = (id, f) => document.getElementById(id).addEventListener("click", f);
  on("mg-first", () => {
    stop();
    go(0);
  });
  on("mg-prev", () => {
    stop();
    go(pos - 1);
  });
  on("mg-next", () => {
    stop();
    go(pos + 1);
  });
  on("mg-last", () => {
    stop();
    go(LAST);
  });
  on("mg-play", play);
  on("mg-zoom-in", () => setZoom((zoom || 1) * 1.25));
  on("mg-zoom-out", () => setZoom((zoom || 1) / 1.25));
  on("mg-zoom-fit", () => setZoom(0));
  const slider = document.getElementById("mg-slider");
  slider.max = String(LAST);
  slider.addEventListener("input", () => {
    stop();
    go(Number(slider.value));
  });
  document.addEventListener("keydown", (event) => {
    if (event.target === slider || event.altKey || event.ctrlKey || event.metaKey) return;
    const moves = { ArrowRight: pos + 1, ArrowLeft: pos - 1, Home: 0, End: LAST };
    if (event.key in moves) {
      stop();
      go(moves[event.key]);
    } else if (event.key === " ") {
      play();
    } else return;
    event.preventDefault();
  });
  if (svg) {
    svg.addEventListener("click", (event) => {
      const g = event.target.closest("g.node");
      if (g && byId.has(g.id)) select(g.id);
    });
  }
}

function firstZoom() {
  // Fit the width unless that makes the text too small to read; then scroll instead.
  if (!svg) return;
  const natural = (svg.viewBox.baseVal.width * 4) / 3;
  const room = document.getElementById("mg-graph").clientWidth - 14;
  if (natural && room / natural < MIN_FIT) setZoom(MIN_FIT);
}

wire();
firstZoom();
buildTable();
buildModules();
go(0);
