// The bucket's page: fetches /api/status, then each tenant's blocks and plans, draws one
// timeline per tenant (a row per compaction group and resolution, a bar per block), and
// reloads every `refreshSeconds`. Everything from the bucket is put in the DOM as text, never
// as HTML (tenant names, labels and reports are hostile).

const HOUR = 3_600_000;
const TICK_STEPS = [HOUR, 2 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 168 * HOUR, 336 * HOUR, 720 * HOUR];
const LANE_PX = 20;

const $ = (id) => document.getElementById(id);
let selected; // { tenant, block } of the block shown in the side panel

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "style") Object.assign(e.style, v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(body.error ?? `HTTP ${r.status}`);
  return body;
}

const api = (tenant, rest = "") => `/api/tenants/${encodeURIComponent(tenant)}${rest}`;
const iso = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
const resolutionName = (r) => ({ 0: "raw", 300000: "5m", 3600000: "1h" })[r] ?? `${r}ms`;
const labelText = (labels) =>
  `{${Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;

function age(seconds) {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function duration(ms) {
  const round = (x) => String(Math.round(x * 10) / 10);
  if (ms >= 48 * HOUR) return `${round(ms / (24 * HOUR))}d`;
  if (ms >= HOUR) return `${round(ms / HOUR)}h`;
  return `${Math.round(ms / 60000)}m`;
}

function blockClasses(b) {
  const c = ["block", `state-${b.state}`];
  if (b.level !== undefined) c.push(`level-${Math.min(b.level, 5)}`);
  if (b.marks.noCompact && b.state !== "quarantined") c.push("no-compact");
  if (b.marks.noDownsample) c.push("no-downsample");
  if (selected && selected.block === b.block && selected.tenant === b.tenant) c.push("selected");
  return c.join(" ");
}

function tooltipText(b) {
  const lines = [`${b.block} (${b.state}${b.indexed ? ", indexed" : ""})`];
  if (b.minTime !== undefined) {
    lines.push(`${iso(b.minTime)} → ${iso(b.maxTime)} (${duration(b.maxTime - b.minTime)})`);
    lines.push(`level ${b.level}, ${resolutionName(b.resolution)}, ${labelText(b.labels)}`);
    lines.push(`${b.series} series, ${b.samples} samples, ${bytes(b.sizeBytes)}`);
  }
  if (b.shard) lines.push(`shard ${b.shard}`);
  if (b.problem) lines.push(`problem: ${b.problem}`);
  if (b.marks.deletion) lines.push(`marked for deletion at ${iso(b.marks.deletion.time * 1000)}`);
  if (b.marks.quarantine) lines.push(`quarantined: ${b.marks.quarantine.reason}`);
  else if (b.marks.noCompact) lines.push(`no-compact: ${b.marks.noCompact.reason}`);
  if (b.marks.noDownsample) lines.push(`no-downsample: ${b.marks.noDownsample.reason}`);
  for (const u of b.marks.unreadable ?? []) lines.push(`unreadable ${u.file}: ${u.problem}`);
  lines.push("click for meta.json and reports");
  return lines.join("\n");
}

function blockElement(b, style, text) {
  const e = el(
    "div",
    {
      class: blockClasses(b),
      style,
      tabindex: "0",
      role: "button",
      "data-ulid": b.block,
      "data-tenant": b.tenant,
      "data-state": b.state,
      "data-level": b.level === undefined ? "" : String(b.level),
    },
    text,
  );
  e.addEventListener("mouseenter", (ev) => showTooltip(ev, tooltipText(b)));
  e.addEventListener("mousemove", moveTooltip);
  e.addEventListener("mouseleave", hideTooltip);
  e.addEventListener("click", () => openPanel(b.tenant, b.block));
  e.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") openPanel(b.tenant, b.block);
  });
  return e;
}

/**
 * Rows: one per compaction group (labels without replica labels, and resolution); overlapping blocks stacked in lanes.
 */
function rowsOf(blocks) {
  const rows = new Map();
  for (const b of blocks) {
    const key = b.group ?? `${b.resolution}@${labelText(b.labels)}`;
    if (!rows.has(key)) rows.set(key, { key, labels: b.groupLabels ?? b.labels, resolution: b.resolution, blocks: [] });
    rows.get(key).blocks.push(b);
  }
  const out = [...rows.values()].sort(
    (a, b) => a.resolution - b.resolution || labelText(a.labels).localeCompare(labelText(b.labels)),
  );
  for (const r of out) {
    r.blocks.sort((a, b) => a.minTime - b.minTime || (a.block < b.block ? -1 : 1));
    const laneEnds = [];
    for (const b of r.blocks) {
      let lane = laneEnds.findIndex((end) => end <= b.minTime);
      if (lane < 0) lane = laneEnds.push(0) - 1;
      laneEnds[lane] = b.maxTime;
      b.lane = lane;
    }
    r.lanes = Math.max(1, laneEnds.length);
  }
  return out;
}

function axis(t0, t1) {
  const span = t1 - t0;
  const step = TICK_STEPS.find((s) => span / s <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1];
  const ticks = el("div", { class: "ticks" });
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    const label = iso(t).slice(5, 16).replace("T", " ");
    ticks.append(el("span", { class: "tick", style: { left: `${((t - t0) / span) * 100}%` } }, label));
  }
  return el("div", { class: "axis" }, el("div", { class: "row-label" }, "UTC"), ticks);
}

function timeline(blocks) {
  const placed = blocks.filter((b) => b.minTime !== undefined && b.maxTime > b.minTime);
  const unplaced = blocks.filter((b) => !placed.includes(b));
  const box = el("div", { class: "timeline" });
  if (placed.length) {
    const t0 = Math.min(...placed.map((b) => b.minTime));
    const t1 = Math.max(...placed.map((b) => b.maxTime));
    const span = t1 - t0;
    box.append(axis(t0, t1));
    for (const r of rowsOf(placed)) {
      const track = el("div", { class: "track", style: { height: `${r.lanes * LANE_PX}px` } });
      for (const b of r.blocks) {
        const style = {
          left: `${((b.minTime - t0) / span) * 100}%`,
          width: `${((b.maxTime - b.minTime) / span) * 100}%`,
          top: `${b.lane * LANE_PX + 2}px`,
        };
        track.append(blockElement(b, style));
      }
      const name = `${labelText(r.labels)} ${resolutionName(r.resolution)}`;
      box.append(
        el("div", { class: "row", "data-group": r.key }, el("div", { class: "row-label", title: name }, name), track),
      );
    }
  }
  if (unplaced.length) {
    const list = el("div", { class: "unplaced" }, el("span", { class: "note bad" }, "without a readable meta.json: "));
    for (const b of unplaced) list.append(blockElement(b, {}, `${b.block} (${b.state})`));
    box.append(list);
  }
  return box;
}

function plansList(plans) {
  const box = el("div", { class: "plans" }, el("h3", {}, "Pending plans"));
  if (plans.error) {
    box.append(el("p", { class: "note bad" }, `planner: ${plans.error}`));
    return box;
  }
  const items = [
    ...plans.compactions.map((c) => `compact (${c.kind}) ${c.inputs.join(", ")}: ${c.reason}`),
    ...plans.downsamples.map((d) => `downsample ${d.block} to ${resolutionName(d.resolution)}`),
    ...plans.refused.map((r) => `refused ${r.block} [${r.reason}]: ${r.details}`),
    ...plans.failing.map((f) => `failing ${f.job}: ${f.attempts} attempt(s); ${f.errors.at(-1) ?? ""}`),
  ];
  const ul = el("ul");
  for (const t of items) ul.append(el("li", {}, t));
  box.append(items.length ? ul : el("p", { class: "note" }, "none: the bucket is settled"));
  return box;
}

function indexNote(index) {
  if (index.error) return el("span", { class: "note bad" }, `bucket index unreadable: ${index.error}`);
  if (!index.present) return el("span", { class: "note bad" }, "no bucket index");
  return el("span", { class: "note" }, `bucket index ${age(index.ageSeconds)} old (${index.blocks} blocks)`);
}

async function tenantSection(summary) {
  const section = el("section", { class: "tenant", "data-tenant": summary.tenant });
  const counts = Object.entries(summary.states)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  section.append(
    el("h2", {}, summary.tenant),
    el("span", { class: "summary" }, `${summary.blocks} blocks (${counts}) · `),
    indexNote(summary.index),
  );
  try {
    const [blocks, plans] = await Promise.all([
      getJson(api(summary.tenant, "/blocks")),
      getJson(api(summary.tenant, "/plans")),
    ]);
    section.append(timeline(blocks.blocks), plansList(plans));
  } catch (e) {
    section.append(el("p", { class: "note bad" }, `could not load: ${e.message}`));
  }
  return section;
}

async function load() {
  let refresh = 30;
  try {
    const status = await getJson("/api/status");
    refresh = status.refreshSeconds;
    $("bucket").textContent = status.bucket;
    const q = $("queues");
    if (status.queues) {
      q.textContent = `jobs queue ${status.queues.jobs} · DLQ ${status.queues.dlq}`;
      q.classList.toggle("dlq", status.queues.dlq > 0);
    } else q.textContent = status.queuesError ? `queues: ${status.queuesError}` : "";
    const sections = await Promise.all(status.tenants.map(tenantSection));
    if (sections.length === 0) sections.push(el("p", { class: "note" }, "no tenants: the bucket holds no blocks"));
    $("tenants").replaceChildren(...sections);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()} · every ${refresh} s`;
    $("error").hidden = true;
    document.body.dataset.loaded = String(status.generatedAt);
  } catch (e) {
    $("error").textContent = `could not load the bucket: ${e.message}`;
    $("error").hidden = false;
  }
  setTimeout(load, refresh * 1000);
}

function showTooltip(ev, text) {
  const t = $("tooltip");
  t.textContent = text;
  t.hidden = false;
  moveTooltip(ev);
}

function moveTooltip(ev) {
  const t = $("tooltip");
  const x = Math.min(ev.clientX + 14, window.innerWidth - t.offsetWidth - 8);
  t.style.left = `${Math.max(0, x)}px`;
  t.style.top = `${ev.clientY + 14}px`;
}

function hideTooltip() {
  $("tooltip").hidden = true;
}

function section(title, value) {
  return [el("h3", {}, title), el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 2))];
}

async function openPanel(tenant, block) {
  selected = { tenant, block };
  for (const e of document.querySelectorAll(".block.selected")) e.classList.remove("selected");
  for (const e of document.querySelectorAll(".block"))
    if (e.dataset.ulid === block && e.dataset.tenant === tenant) e.classList.add("selected");
  $("panel-title").textContent = `${tenant} / ${block}`;
  $("panel-body").replaceChildren(el("p", { class: "note" }, "loading…"));
  $("panel").hidden = false;
  try {
    const d = await getJson(api(tenant, `/blocks/${encodeURIComponent(block)}`));
    const b = d.block;
    const dl = el("dl");
    const row = (k, v) => v !== undefined && dl.append(el("dt", {}, k), el("dd", {}, String(v)));
    row("state", b.state);
    row("indexed", b.indexed);
    row("verified", b.verified);
    if (b.minTime !== undefined) row("time", `${iso(b.minTime)} → ${iso(b.maxTime)}`);
    row("level", b.level);
    if (b.resolution !== undefined) row("resolution", resolutionName(b.resolution));
    if (b.labels) row("external labels", labelText(b.labels));
    if (b.groupLabels) row("group", labelText(b.groupLabels));
    row("series", b.series);
    row("samples", b.samples);
    row("size", bytes(b.sizeBytes));
    row("problem", b.problem);
    if (b.marks.quarantine) row("quarantined", b.marks.quarantine.reason);
    const body = [el("h3", {}, "Block"), dl];
    const marks = Object.fromEntries(Object.entries(d.marks).filter(([, v]) => v !== undefined));
    if (Object.keys(marks).length) body.push(...section("Marks", marks));
    if (d.verifyReport !== undefined) body.push(...section("Verify report", d.verifyReport));
    if (d.planReport !== undefined) body.push(...section("Plan report", d.planReport));
    body.push(...section("meta.json", d.meta ?? d.metaError));
    if (d.verified !== undefined) body.push(...section("Verification record", d.verified));
    body.push(...section("Files", d.files.map((f) => `${f.name}  ${bytes(f.size)}`).join("\n")));
    if (selected?.block === block) $("panel-body").replaceChildren(...body);
  } catch (e) {
    $("panel-body").replaceChildren(el("p", { class: "note bad" }, `could not load: ${e.message}`));
  }
}

function closePanel() {
  selected = undefined;
  $("panel").hidden = true;
  for (const e of document.querySelectorAll(".block.selected")) e.classList.remove("selected");
}

$("panel-close").addEventListener("click", closePanel);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") closePanel();
});
load();
