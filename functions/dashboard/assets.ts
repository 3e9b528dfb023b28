// The dashboard's stylesheet and its one small script, served by tetik (nothing is loaded from elsewhere).
// Colours meet WCAG AA contrast on their backgrounds; the layout holds from a 390 px phone to a desktop.
export const CSS = `
:root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; --card: #fff; --accent: #0a58ca;
  --ok: #116329; --ok-bg: #dafbe1; --bad: #a40e26; --bad-bg: #ffebe9; --warn: #7d4e00; --warn-bg: #fff8c5;
  --busy: #0550ae; --busy-bg: #ddf4ff; }
* { box-sizing: border-box; }
body {
  margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg);
}
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid #ffbf47; outline-offset: 2px;
}
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 2; }
.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 4px 20px; padding: 10px 20px; background: #24292f;
  color: #fff;
}
.top a { color: #fff; text-decoration: none; padding: 4px 2px; }
.top a[aria-current="page"] { border-bottom: 2px solid #fff; font-weight: 600; }
.brand { font-weight: 700; font-size: 18px; }
.top nav { display: flex; flex-wrap: wrap; gap: 4px 16px; flex: 1; }
.sign-out .link {
  background: none; border: 0; color: #fff; text-decoration: underline; cursor: pointer; font: inherit;
}
.banner {
  margin: 0; padding: 10px 20px; background: var(--warn-bg); color: var(--warn); border-bottom: 1px solid #d4a72c;
  font-weight: 600;
}
main { padding: 16px 20px 40px; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 24px; margin: 8px 0 16px; word-break: break-all; } h2 { font-size: 17px; margin: 0 0 8px; }
h3 { font-size: 15px; margin: 0 0 4px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; margin-bottom: 16px; }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px;
  min-width: 0;
}
.grid .card { margin-bottom: 0; }
.narrow { max-width: 420px; margin: 40px auto; }
.big { font-size: 28px; font-weight: 700; margin: 0 0 6px; }
.muted { color: var(--muted); }
.warn { color: var(--bad); }
.notice { background: var(--busy-bg); color: var(--busy); padding: 8px 12px; border-radius: 6px; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
pre.json {
  background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px; overflow: auto;
  max-height: 360px; white-space: pre-wrap; word-break: break-all;
}
.counts { list-style: none; padding: 0; margin: 0; display: grid; grid-template-columns: 1fr 1fr; gap: 4px 12px; }
.status {
  display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 13px; font-weight: 600;
  text-decoration: none; background: #eaeef2; color: var(--ink);
}
.status-completed, .sweep-ok { background: var(--ok-bg); color: var(--ok); }
.status-failed, .sweep-late, .sweep-never { background: var(--bad-bg); color: var(--bad); }
.status-retrying { background: var(--warn-bg); color: var(--warn); }
.status-processing, .status-pending { background: var(--busy-bg); color: var(--busy); }
.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
.pairs dt { color: var(--muted); } .pairs dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; background: var(--card); }
th, td {
  text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top;
  overflow-wrap: anywhere;
}
th { font-weight: 600; color: var(--muted); font-size: 13px; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin-bottom: 12px; }
.filters label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); }
input, select {
  font: inherit; padding: 6px 8px; border: 1px solid #8c959f; border-radius: 6px; background: #fff; color: var(--ink);
  min-width: 0;
}
label { display: block; margin-bottom: 4px; }
.narrow input { width: 100%; margin-bottom: 12px; }
.button {
  display: inline-block; font: inherit; font-weight: 600; padding: 6px 14px; border-radius: 6px;
  border: 1px solid transparent; cursor: pointer; text-decoration: none;
}
.primary { background: #1f6feb; color: #fff; }
.secondary { background: #fff; color: var(--accent); border-color: #8c959f; }
.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
form.inline { display: inline; } .actions-bar { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.action { border-top: 1px solid var(--line); padding: 10px 0; }
.timeline { margin: 6px 0 0; padding-left: 20px; } .timeline li { margin-bottom: 4px; }
.timeline li.ok::marker { color: var(--ok); } .timeline li.bad::marker { color: var(--bad); }
.chart { width: 100%; height: auto; } .bar { fill: #54aeff; } .bar-failed { fill: #cf222e; }
.axis { font-size: 11px; fill: var(--muted); }
.legend .key { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-left: 8px; }
.key-received { background: #54aeff; } .key-failed { background: #cf222e; }
.clauses { margin: 4px 0; padding-left: 20px; } .clauses li.ok::marker { color: var(--ok); }
.clauses li.bad::marker { color: var(--bad); }
textarea {
  width: 100%; font: inherit; padding: 6px 8px; border: 1px solid #8c959f; border-radius: 6px; margin-bottom: 8px;
}
.secret { border-color: #d4a72c; background: var(--warn-bg); }
.key-form input:not([type="checkbox"]) { width: 100%; max-width: 420px; margin-bottom: 12px; }
.key-form fieldset { border: 0; padding: 0; margin: 0 0 12px; } .key-form legend { margin-bottom: 4px; }
.key-form .choice { margin: 0 0 2px; }
.scroll { overflow-x: auto; } table.keys th, table.keys td { overflow-wrap: normal; }
table.keys .button, table.keys .mono { white-space: nowrap; }
table.diff { margin-top: 6px; font-size: 13px; } table.diff td { max-width: 360px; }
table.diff th { overflow-wrap: normal; } .nowrap { white-space: nowrap; }
table.diff tr.changed td { background: var(--warn-bg); font-weight: 600; }
table.diff tr.same td { color: var(--muted); }
@media (max-width: 640px) {
  main { padding: 12px; } .top { padding: 8px 12px; }
  table.events thead { display: none; }
  table.events tr { display: block; border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.events td { display: inline-block; border: 0; padding: 2px 6px 2px 0; }
}
`;

// Parts of a page marked data-refresh="<ms>" are fetched again while the page is visible and swapped in
// place (the rest of the page, a half-typed filter included, is left alone). Paused while the tab is hidden.
export const SCRIPT = `
(() => {
  const live = document.querySelector("[data-refresh]");
  if (!live) return;
  const every = Math.max(2000, Number(live.getAttribute("data-refresh")) || 5000);
  let busy = false;
  setInterval(async () => {
    const focused = document.activeElement;
    if (busy || document.hidden || live.contains(focused) && focused !== document.body) return;
    busy = true;
    try {
      const res = await fetch(location.href, {
        headers: { "x-tetik-refresh": "1" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").getElementById(live.id);
      if (next) live.innerHTML = next.innerHTML;
    } catch {} finally { busy = false; }
  }, every);
})();
`;
