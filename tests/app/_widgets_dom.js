// Runs a widget page's inline script under node against a tiny DOM built from the page
// (tests/app/test_widgets_js.py), with the real fetch pointed at our live Flask app.
// argv: JSON {base, elements, script, actions}. Prints the resulting state as JSON.
"use strict";
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const realFetch = globalThis.fetch;
const log = [];
const timers = [];
let reloads = 0;

class El {
  constructor(spec) {
    this.tagName = (spec.tag || "div").toUpperCase();
    this.id = spec.id || "";
    this.classes = spec.classes || [];
    this.attrs = Object.assign({}, spec.attrs || {});
    this.ancestors = spec.ancestors || [];
    this._text = spec.text || "";
    this.children = [];
    this.value = this.attrs.value || "";
    this.checked = "checked" in this.attrs;
    this.disabled = "disabled" in this.attrs;
    this.onclick = null;
    this.onchange = null;
  }
  get className() { return this.classes.join(" "); }
  set className(v) { this.classes = String(v).split(/\s+/).filter(Boolean); }
  get textContent() { return this._text + this.children.map((c) => c.textContent).join(" "); }
  set textContent(v) { this._text = String(v); this.children = []; }
  getAttribute(n) { return n in this.attrs ? this.attrs[n] : null; }
  setAttribute(n, v) { this.attrs[n] = String(v); }
  appendChild(c) { this.children.push(c); return c; }
  click() { if (this.onclick && !this.disabled) this.onclick.call(this); }
}
const elements = input.elements.map((s) => new El(s));
const created = [];
function all() {
  const out = [...elements];
  const walk = (e) => e.children.forEach((c) => { out.push(c); walk(c); });
  elements.concat(created).forEach(walk);
  return out;
}
globalThis.document = {
  getElementById: (id) => all().find((e) => e.id === id) || null,
  querySelectorAll: (sel) => {
    // the few selectors the widget scripts use: "tag.cls:checked", ".cls", "#id .cls"
    let m;
    if ((m = sel.match(/^(\w+)\.([\w-]+)(:checked)?$/)))
      return all().filter((e) => e.tagName === m[1].toUpperCase() && e.classes.includes(m[2])
        && (!m[3] || e.checked));
    if ((m = sel.match(/^\.([\w-]+)$/))) return all().filter((e) => e.classes.includes(m[1]));
    if ((m = sel.match(/^#([\w-]+) \.([\w-]+)$/)))
      return all().filter((e) => e.ancestors.includes(m[1]) && e.classes.includes(m[2]));
    throw new Error("selector not supported by the test DOM: " + sel);
  },
  createElement: (tag) => { const e = new El({ tag }); created.push(e); return e; },
  createTextNode: (text) => new El({ tag: "#text", text }),
};
globalThis.window = globalThis; // B24Page (app.widgets._page_js) lives on window, as in a browser
globalThis.location = { reload: () => { reloads += 1; } };
globalThis.confirm = () => true;
// the page's timers only (fetch's own internals keep the real ones)
const pageSetTimeout = (fn) => { timers.push(fn); return timers.length; };
// every request and body read in flight is counted, so each step waits for the page's
// fetches to finish however slow the machine is (a fixed pause failed under load)
let inflight = 0;
const counted = (promise) => {
  inflight += 1;
  return promise.finally(() => { inflight -= 1; });
};
globalThis.fetch = (url, opts) => counted((async () => {
  const resp = await realFetch(input.base + url, opts);
  log.push({ method: opts.method, url, status: resp.status,
    auth: (opts.headers || {}).Authorization || "", body: opts.body || null });
  for (const read of ["json", "text"]) {
    const original = resp[read].bind(resp);
    resp[read] = () => counted(original());
  }
  return resp;
})());
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
const idle = async () => {
  const end = Date.now() + 30000;
  while (inflight > 0 && Date.now() < end) await pause(10);
};
const settle = async () => {
  await new Promise((r) => setImmediate(r));
  await idle();
  await pause(50); // the handlers chained after the last read
  await idle();
};

(async () => {
  new Function("setTimeout", input.script)(pageSetTimeout);
  await settle();
  for (const [what, arg] of input.actions) {
    if (what === "click") {
      const el = /^#[\w-]+$/.test(arg) ? document.getElementById(arg.slice(1))
        : document.querySelectorAll(arg)[0];
      if (!el) throw new Error("nothing to click: " + arg);
      el.click();
    }
    await settle();
  }
  const text = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
  const msg = document.getElementById("msg");
  const offers = document.getElementById("offers");
  process.stdout.write(JSON.stringify({
    msg: text("msg"), msgClass: msg ? msg.className : null, plan: text("plan"),
    mergeDisabled: document.getElementById("merge") ? document.getElementById("merge").disabled
      : null,
    offers: offers ? offers.children.filter((c) => c.classes.includes("slot"))
      .map((c) => c.getAttribute("data-start")) : [],
    fetches: log, reloads, pendingTimers: timers.length,
  }));
})().catch((e) => { process.stderr.write(String(e.stack || e)); process.exit(1); });
