// The explorer's panels: what the current step does, the clicked node, the table of backward
// steps and the modules' boxes. Shares the state of explorer.js (both run in one function).
// ----- the step panel ----------------------------------------------------------------------
function phaseOf(p) {
  if (p === 0) return ["start", null];
  if (p <= F) return ["fwd", D.forward[p - 1]];
  return ["bwd", D.backward[p - F - 1]];
}

function paintCounter(phase) {
  const counter = document.getElementById("mg-counter");
  counter.textContent = "";
  const what =
    phase === "start"
      ? "Start"
      : phase === "fwd"
        ? `Forward ${pos} / ${F}`
        : `Backward ${pos - F} / ${B}`;
  counter.append(h("b", {}, what), ` \u00b7 step ${pos} of ${LAST}`);
}

function startPanel() {
  const parts = [
    h("h2", {}, h("span", { class: "mg-phase start" }, "start"), " the inputs"),
    h(
      "p",
      {},
      "The leaves hold their data: parameters (blue) and constants (grey). " +
        "Press \u2192 (or \u25b6) to run the forward pass one op at a time; " +
        "the backward pass follows.",
    ),
  ];
  if (!D.traced)
    parts.push(
      h(
        "p",
        { class: "mg-muted" },
        "The root needs no gradient, so there is no backward pass to show.",
      ),
    );
  if (D.hidden)
    parts.push(
      h(
        "p",
        { class: "mg-muted" },
        `${D.hidden} more nodes are not drawn (max_nodes=${D.maxNodes}); ` +
          "their steps still show their numbers.",
      ),
    );
  return parts;
}

function forwardPanel(step) {
  const rows = step.inputs.map((i) =>
    h("tr", {}, h("td", {}, i.name), h("td", { class: "mg-num" }, i.data)),
  );
  return [
    h(
      "h2",
      {},
      h("span", { class: "mg-phase fwd" }, "forward"),
      ` ${step.name} = ${step.op}(${step.inputs.map((i) => i.name).join(", ")})`,
    ),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, "input"), h("th", {}, "data"))),
      h("tbody", {}, ...rows),
    ),
    h("p", {}, `${step.name} = `, h("b", { id: "mg-forward-out" }, num(step.out))),
  ];
}

function backwardPanel(step) {
  const rows = step.inputs.map((i) =>
    h(
      "tr",
      { class: "mg-input-row" },
      h("td", { class: "mg-name" }, i.name),
      h("td", { class: "mg-num mg-local" }, i.local),
      h("td", { class: "mg-equals mg-muted" }, i.equals ? "= " + i.equals : ""),
      h("td", { class: "mg-num mg-added" }, i.added.full),
      h("td", { class: "mg-num mg-gradnow" }, i.gradNow.full),
    ),
  );
  const parts = [
    h(
      "h2",
      {},
      h("span", { class: "mg-phase bwd" }, "backward"),
      ` step ${step.step}: the rule of ${step.op} at ${step.name}`,
    ),
    h(
      "p",
      {},
      `upstream g = d ${D.nodes[0].name} / d ${step.name} = `,
      h("b", { id: "mg-upstream" }, num(step.upstream.full)),
    ),
  ];
  if (!rows.length) {
    parts.push(h("p", { class: "mg-muted" }, "No input of this op needs a gradient."));
    return parts;
  }
  parts.push(
    h(
      "table",
      { id: "mg-inputs" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "input"),
          h("th", {}, "local d/d input"),
          h("th", {}),
          h("th", {}, "added = g \u00d7 local"),
          h("th", {}, ".grad now"),
        ),
      ),
      h("tbody", {}, ...rows),
    ),
    h(
      "p",
      { class: "mg-muted" },
      "Each input's .grad grows by upstream g times the local derivative of the op " +
        "(for arrays, a vector-Jacobian product; shown as shape and norm).",
    ),
  );
  return parts;
}

function paintStep(phase, step) {
  const panel = document.getElementById("mg-step");
  panel.textContent = "";
  const parts =
    phase === "start" ? startPanel() : phase === "fwd" ? forwardPanel(step) : backwardPanel(step);
  panel.append(...parts);
}

// ----- the node panel ----------------------------------------------------------------------
function valueView(s) {
  if (!s.shape) return h("dl", {}, h("dt", {}, "value"), h("dd", { class: "mg-scalar" }, s.full));
  const dl = h(
    "dl",
    {},
    h("dt", {}, "shape"),
    h(
      "dd",
      { class: "mg-shape" },
      "(" + s.shape.join(", ") + (s.shape.length === 1 ? "," : "") + ")",
    ),
    h("dt", {}, "dtype"),
    h("dd", { class: "mg-dtype" }, s.dtype),
  );
  if (s.min !== undefined) {
    dl.append(
      h("dt", {}, "min"),
      h("dd", { class: "mg-min" }, s.min),
      h("dt", {}, "max"),
      h("dd", { class: "mg-max" }, s.max),
      h("dt", {}, "mean"),
      h("dd", { class: "mg-mean" }, s.mean),
      h("dt", {}, "norm"),
      h("dd", { class: "mg-norm" }, s.norm),
    );
  }
  const out = h("div", {}, dl);
  if (s.preview) out.append(heatMap(s.preview));
  return out;
}

function heatMap(preview) {
  let top = 0;
  for (const row of preview.values)
    for (const v of row) if (v !== null) top = Math.max(top, Math.abs(v));
  const color = (v) => {
    if (v === null) return "#ffd6d6";
    const t = top ? Math.min(1, Math.abs(v) / top) : 0;
    const [r, g, b] = v < 0 ? [31, 111, 235] : [217, 72, 15];
    const mix = (c) => Math.round(255 + (c - 255) * t * 0.75);
    return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
  };
  const rows = preview.rows.map((row, i) =>
    h(
      "tr",
      {},
      ...row.map((text, j) => {
        const td = h("td", {}, text);
        td.style.background = color(preview.values[i][j]);
        return td;
      }),
    ),
  );
  return h(
    "div",
    {},
    h("table", { class: "mg-heat" }, h("tbody", {}, ...rows)),
    preview.note ? h("p", { class: "mg-muted" }, preview.note) : null,
  );
}

function paintDetails() {
  const panel = document.getElementById("mg-details");
  panel.textContent = "";
  if (!selected) {
    panel.append(
      h("h2", {}, "Node"),
      h("p", { class: "mg-muted" }, "Click a node of the graph to see its op, data and gradient."),
    );
    return;
  }
  const node = byId.get(selected);
  const grad = pos > F ? gradAt(node, pos - F) : null;
  const known = node.forward === 0 || node.forward <= pos;
  panel.append(
    h("h2", { id: "mg-node-name" }, node.name, h("span", { class: "mg-muted" }, ` (${node.kind})`)),
    h("p", {}, node.op ? `made by ${node.op}(${node.inputs.join(", ")})` : "a leaf: made by no op"),
    h(
      "h2",
      {},
      "data",
      known ? "" : h("span", { class: "mg-muted" }, " (not computed yet at this step)"),
    ),
    h("div", { id: "mg-node-data" }, valueView(node.data)),
    h("h2", {}, "grad"),
    grad
      ? h("div", { id: "mg-node-grad" }, valueView(grad[1]))
      : h(
          "p",
          { class: "mg-muted" },
          pos > F || !D.traced
            ? "None: no gradient has reached it yet."
            : "None until the backward pass reaches it.",
        ),
  );
}

function select(id) {
  if (selected) svgEl(selected)?.classList.remove("mg-selected");
  selected = id;
  if (selected) svgEl(selected)?.classList.add("mg-selected");
  paintDetails();
}

// ----- the table of backward steps ---------------------------------------------------------
function buildTable() {
  const panel = document.getElementById("mg-table");
  if (!B) {
    panel.hidden = true;
    return;
  }
  const head = [
    "step",
    "node",
    "op",
    "upstream g",
    "input",
    "local d(node)/d(input)",
    "added to input.grad",
  ];
  const body = h("tbody", {});
  for (const s of D.backward) {
    const inputs = s.inputs.length ? s.inputs : [null];
    inputs.forEach((i, k) => {
      const first = k === 0;
      const tr = h(
        "tr",
        { "data-step": s.step },
        h("td", { class: "mg-num" }, first ? s.step : ""),
        h("td", {}, first ? s.name : ""),
        h("td", {}, first ? s.op : ""),
        h("td", { class: "mg-num" }, first ? s.upstream.full : ""),
        h("td", {}, i ? i.name : "(no input needs a gradient)"),
        h("td", { class: "mg-num" }, i ? i.local + (i.equals ? " = " + i.equals : "") : ""),
        h("td", { class: "mg-num" }, i ? i.added.full : ""),
      );
      tr.addEventListener("click", () => go(F + s.step));
      body.append(tr);
      if (!rowsOfStep.has(s.step)) rowsOfStep.set(s.step, []);
      rowsOfStep.get(s.step).push(tr);
    });
  }
  panel.append(
    h("h2", {}, "Backward, one gradient rule per step (click a row to go there)"),
    h("table", {}, h("thead", {}, h("tr", {}, ...head.map((t) => h("th", {}, t)))), body),
  );
}

const rowsOfStep = new Map(); // backward step -> its rows in the table
let lit = [];

function paintTable() {
  for (const tr of lit) tr.classList.remove("mg-now");
  lit = rowsOfStep.get(pos - F) || [];
  for (const tr of lit) tr.classList.add("mg-now");
}

// ----- modules: boxes that collapse --------------------------------------------------------
const clusterGroups = new Map();
function findClusters() {
  if (!svg) return;
  for (const g of svg.querySelectorAll("g.cluster")) {
    const title = g.querySelector("title");
    if (title) clusterGroups.set(title.textContent, g);
  }
}

function setCollapsed(cluster, collapsed) {
  const g = clusterGroups.get(cluster.title);
  if (!g) return;
  const members = new Set(cluster.members);
  for (const id of cluster.members) svgEl(id)?.classList.toggle("mg-hidden", collapsed);
  for (const e of D.edges) {
    if (members.has(e.from) && members.has(e.to))
      svgEl(e.id)?.classList.toggle("mg-hidden", collapsed);
  }
  let cover = g.querySelector("rect.mg-collapsed");
  if (collapsed && !cover) {
    const box = g.getBBox();
    const ns = svg.namespaceURI; // the SVG namespace, without writing its address
    cover = document.createElementNS(ns, "rect");
    cover.setAttribute("class", "mg-collapsed");
    for (const [k, v] of [
      ["x", box.x],
      ["y", box.y],
      ["width", box.width],
      ["height", box.height],
      ["rx", 6],
    ])
      cover.setAttribute(k, v);
    const text = document.createElementNS(ns, "text");
    text.setAttribute("class", "mg-collapsed-label");
    text.setAttribute("x", box.x + box.width / 2);
    text.setAttribute("y", box.y + box.height / 2);
    text.setAttribute("text-anchor", "middle");
    text.setAttribute("font-size", "12");
    text.textContent = `${cluster.label}: ${cluster.members.length} shapes (click to open)`;
    g.append(cover, text);
  } else if (!collapsed && cover) {
    cover.remove();
    g.querySelector("text.mg-collapsed-label")?.remove();
  }
  const box = document.querySelector(`#mg-modules input[data-title="${cluster.title}"]`);
  if (box) box.checked = collapsed;
}

function buildModules() {
  if (!D.clusters.length || !svg) return;
  findClusters();
  const panel = document.getElementById("mg-modules");
  panel.hidden = false;
  panel.append(
    h("h2", {}, "Modules"),
    h("p", { class: "mg-muted" }, "Collapse a module's box (or click the box in the graph)."),
  );
  const kids = new Map();
  for (const c of D.clusters) {
    const up = c.parent === undefined ? null : c.parent;
    if (!kids.has(up)) kids.set(up, []);
    kids.get(up).push(c);
  }
  const ordered = [];
  const visit = (up, depth) => {
    for (const c of kids.get(up) || []) {
      ordered.push([c, depth]);
      visit(c.path, depth + 1);
    }
  };
  visit(null, 0);
  for (const [c, depth] of ordered) {
    const input = h("input", { type: "checkbox", "data-title": c.title });
    input.addEventListener("change", () => setCollapsed(c, input.checked));
    const label = h("label", {}, input, " ", c.label);
    label.style.paddingLeft = depth * 16 + "px";
    panel.append(label);
    const g = clusterGroups.get(c.title);
    if (g) {
      g.addEventListener("click", (event) => {
        if (event.target.closest("g.node")) return;
        event.stopPropagation();
        setCollapsed(c, !g.querySelector("rect.mg-collapsed"));
      });
    }
  }
}
