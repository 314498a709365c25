/** Dashboard style: readable on a wall screen and in a laptop window, no external fonts. */
export const DASHBOARD_CSS = `
:root { --bg: #0f1419; --panel: #182029; --text: #dde3ea; --muted: #8a96a3; --line: #2a3541; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; gap: 1.5rem; align-items: baseline; padding: .8rem 1.2rem; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 1.2rem; } h1 span { color: var(--muted); font-weight: normal; }
h2 { margin: 0 0 .4rem; font-size: .8rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; font-weight: 600; }
.state { margin: 0; color: var(--muted); } .state.live { color: #5fd38d; } .state.down { color: #ff6b6b; }
.processes { margin: 0 0 0 auto; color: var(--muted); }
main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: .8rem; }
.card { background: var(--panel); border-radius: 6px; padding: .7rem .9rem; }
.card p { margin: 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: .8rem; }
figure { margin: 0; background: var(--panel); border-radius: 6px; padding: .7rem .9rem; }
figcaption { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; margin-bottom: .3rem; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 11px; }
.chart path { fill: none; stroke-width: 2; stroke-linejoin: round; }
.legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: .8rem; color: var(--muted); }
.legend i { display: inline-block; width: .8rem; height: .25rem; margin-right: .3rem; vertical-align: middle; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: .8rem; }
.tables > div { background: var(--panel); border-radius: 6px; padding: .7rem .9rem; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .2rem .3rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: .75rem; }
td:nth-child(n+2), th:nth-child(n+2) { text-align: right; }
.ok { color: #5fd38d; } .bad { color: #ff6b6b; } .muted { color: var(--muted); }
ul { list-style: none; margin: 0; padding: 0; max-height: 16rem; overflow: auto; }
li { padding: .25rem 0; border-bottom: 1px solid var(--line); }
li b { color: #ffb454; font-weight: 600; margin-right: .4rem; }
`;
