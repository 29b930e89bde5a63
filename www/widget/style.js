// The widget's styles: a constructable stylesheet shared by every instance, and inline styles
// moved into the CSSOM, so that the widget runs under a strict Content-Security-Policy.

export const STYLE = `
:host { display: block; font: 14px/1.4 var(--tanp-font, system-ui, sans-serif);
  color: var(--tanp-fg, #1d2330); background: var(--tanp-bg, #fff);
  --accent: var(--tanp-accent, #3b5bdb); --border: var(--tanp-border, #d6dae3);
  --muted: var(--tanp-muted, #5c6475); --radius: var(--tanp-radius, 8px); }
* { box-sizing: border-box; }
.bar { display: flex; flex-wrap: wrap; gap: .5em 1.5em; align-items: baseline; padding: .5em .75em;
  border: 1px solid var(--border); border-radius: var(--radius); margin-bottom: .75em; }
.bar .muted, .muted { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 1em; }
section { border: 1px solid var(--border); border-radius: var(--radius); padding: .75em; min-width: 0; }
h3 { margin: 0 0 .5em; font-size: 1em; }
input[type=search] { width: 100%; padding: .45em .6em; font: inherit; border: 1px solid var(--border);
  border-radius: var(--radius); }
ul, ol { list-style: none; margin: .5em 0 0; padding: 0; }
li { display: flex; gap: .5em; align-items: center; justify-content: space-between; padding: .3em 0;
  border-bottom: 1px solid color-mix(in srgb, var(--border) 50%, transparent); }
.title { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
a.title { color: inherit; }
li img { width: 48px; height: 48px; object-fit: cover; border-radius: var(--radius); flex: none; }
.stars { display: inline-flex; flex: none; }
.stars button { background: none; border: 0; padding: 0; font-size: 1.2em; line-height: 1;
  min-width: 24px; min-height: 24px; cursor: pointer; color: var(--tanp-star-off, #7b8496); }
.stars button.on { color: var(--tanp-star, #b86e00); }
.stars button:focus-visible, button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
button.text { background: none; border: 1px solid var(--tanp-star-off, #7b8496); border-radius: var(--radius);
  padding: .2em .6em; font: inherit; cursor: pointer; color: inherit; min-width: 24px; min-height: 24px; }
.score { flex: none; font-variant-numeric: tabular-nums; text-align: right; min-width: 8.5em; }
.meter { display: block; height: 4px; background: var(--border); border-radius: 2px; margin-top: 2px; position: relative; }
.meter i { position: absolute; top: 0; bottom: 0; background: var(--accent); border-radius: 2px; }
.meter b { position: absolute; top: -2px; bottom: -2px; background: color-mix(in srgb, var(--accent) 30%, transparent); }
.heat { display: grid; gap: 2px; align-items: center; font-size: 12px; }
.heat .cell { height: 20px; border-radius: 2px; border: 1px solid var(--tanp-heat-edge, #7b8496); }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.heat .label { white-space: nowrap; padding-right: .5em; color: var(--muted); }
.heat .visitor { color: var(--accent); font-weight: 600; }
.legend { display: flex; align-items: center; gap: .5em; margin-top: .5em; font-size: 12px; color: var(--muted); }
.legend .ramp { flex: 1; height: 10px; border-radius: 2px; }
.notice { color: #a61e4d; }
details { margin-top: .75em; }
summary { cursor: pointer; font-weight: 600; }
.profile { display: grid; grid-template-columns: auto 1fr; gap: .35em .6em; align-items: center; margin-top: .5em; }
.profile select, .profile input { font: inherit; padding: .25em .4em; border: 1px solid var(--border);
  border-radius: var(--radius); min-width: 0; }
.small { font-size: 12px; }
label.small { display: block; margin: -.2em 0 .3em; }
h3.spaced { margin-top: 1em; }
input[type=checkbox] { width: 24px; height: 24px; margin: 0 .3em 0 0; vertical-align: middle; }
.centre { text-align: center; }
`;

/**
 * The widget's styles as a constructable stylesheet, shared by every instance: allowed under a
 * strict Content-Security-Policy (style-src 'self'), which blocks a <style> element.
 */
let sheet = null;
export function adoptStyle(root) {
  if (typeof CSSStyleSheet !== "function" || !("adoptedStyleSheets" in root)) return;
  try {
    sheet ??= new CSSStyleSheet();
    if (!sheet.cssRules.length) sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    // An engine without constructable stylesheets: the <style> element is used instead.
  }
}

/**
 * Moves each `data-style="prop:value;..."` under `root` into the element's style through the
 * CSSOM: a strict CSP blocks style attributes in markup, not style set from script.
 */
export function applyStyles(root) {
  for (const el of root.querySelectorAll("[data-style]")) {
    for (const rule of el.dataset.style.split(";")) {
      const at = rule.indexOf(":");
      if (at > 0) el.style.setProperty(rule.slice(0, at).trim(), rule.slice(at + 1).trim());
    }
    el.removeAttribute("data-style");
  }
}
