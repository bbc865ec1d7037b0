namespace GpuFleet.Server.Dashboard;

/// <summary>
/// The dashboard's style sheet and script, served from the binary (no CDN, no build step). Colours
/// keep a contrast of at least 4.5:1 against their background (WCAG AA); the layout is one column
/// at phone width; every control shows where the keyboard is.
/// </summary>
internal static class DashboardAssets
{
    /// <summary>The style sheet.</summary>
    public const string Css = """
        :root { --ink: #1b1b1f; --muted: #4a4a52; --line: #c9c9d1; --bg: #ffffff; --band: #f3f4f7; --link: #0a4fb5; --focus: #0a4fb5; --bad: #a31b14; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
        a { color: var(--link); }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
        .skip { position: absolute; left: -9999px; }
        .skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px 8px; z-index: 1; }
        .top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; padding: 10px 16px; background: #1f2a44; color: #ffffff; }
        .top a, .top .link { color: #ffffff; }
        .top .brand { font-weight: 700; text-decoration: none; }
        .top nav ul { display: flex; gap: 14px; list-style: none; margin: 0; padding: 0; }
        .top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        .top a:focus-visible, .top button:focus-visible { outline-color: #ffd54a; }
        .signout { margin-left: auto; }
        .who { color: #e4e8f2; }
        main { padding: 12px 16px 32px; max-width: 1400px; }
        main:focus { outline: none; }
        h1 { font-size: 1.5rem; margin: 8px 0 12px; }
        h2 { font-size: 1.2rem; margin: 20px 0 8px; }
        .scroll { overflow-x: auto; max-width: 100%; }
        table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
        caption { text-align: left; color: var(--muted); padding: 4px 0; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: var(--band); white-space: nowrap; }
        td.num, th.num { text-align: right; }
        tfoot td { font-weight: 700; }
        .muted { color: var(--muted); }
        .state { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 0.9em; border: 1px solid currentColor; }
        .state-pending { color: #6b3a00; background: #fff4dc; }
        .state-running { color: #0b5226; background: #e4f5e9; }
        .state-succeeded { color: #1b1b1f; background: #eef0f4; }
        .state-failed, .state-cancelled { color: var(--bad); background: #fdecea; }
        form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: flex-end; margin-bottom: 12px; }
        form.filters label { display: flex; flex-direction: column; font-size: 0.9em; color: var(--muted); }
        input, select, button { font: inherit; min-height: 36px; }
        input, select { border: 1px solid #767680; border-radius: 4px; padding: 4px 6px; color: var(--ink); background: var(--bg); }
        button { cursor: pointer; border-radius: 4px; border: 1px solid #0a4fb5; background: #0a4fb5; color: #ffffff; padding: 4px 12px; }
        button.danger { background: var(--bad); border-color: var(--bad); }
        button.link { background: none; border: none; text-decoration: underline; padding: 0 2px; }
        .pager { display: flex; gap: 16px; align-items: center; margin: 12px 0; flex-wrap: wrap; }
        .problem { color: var(--bad); font-weight: 600; }
        .notice { background: #e8f0fe; border-left: 4px solid #0a4fb5; padding: 8px 12px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        pre { background: var(--band); border: 1px solid var(--line); padding: 8px; overflow: auto; max-height: 28rem; white-space: pre-wrap; overflow-wrap: anywhere; }
        code { overflow-wrap: anywhere; }
        .bar { position: relative; height: 10px; background: #dfe2ea; border-radius: 5px; min-width: 80px; overflow: hidden; }
        .bar span { position: absolute; left: 0; top: 0; bottom: 0; background: #2c5fb8; }
        dl.facts + form { margin-top: 10px; }
        .signin { max-width: 28rem; }
        .signin label { display: block; margin: 8px 0 4px; }
        .signin input { width: 100%; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
        tr.sub th { font-weight: 400; padding-left: 24px; background: var(--bg); }
        svg.spark { display: block; background: var(--band); border: 1px solid var(--line); }
        svg.spark polyline, svg.chart polyline { fill: none; stroke: #2c5fb8; stroke-width: 1.5; }
        svg.chart { display: block; max-width: 100%; height: auto; }
        svg.chart .axis { stroke: #767680; stroke-width: 1; }
        svg.chart .plan { stroke: #4a4a52; stroke-dasharray: 5 4; }
        svg.chart text { fill: var(--ink); font-size: 12px; }
        .grid { display: flex; flex-wrap: wrap; gap: 2px; max-width: 100%; margin: 8px 0; }
        .cell { display: inline-block; width: 14px; height: 14px; border: 1px solid #767680; vertical-align: middle; }
        .cell.u0 { background: #ffffff; } .cell.u1 { background: #c6d8f5; } .cell.u2 { background: #8fb1ea; } .cell.u3 { background: #4f7fd0; } .cell.u4 { background: #1f3f8f; }
        .cell.out { border: 2px solid var(--bad); }
        table.legend { width: auto; }
        .status-line { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; color: var(--muted); font-size: 0.9em; }
        .state-queued { color: #6b3a00; background: #fff4dc; }
        fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0 0 12px; padding: 6px 12px 12px; min-width: 0; }
        legend { font-weight: 600; padding: 0 4px; }
        form.twin { max-width: 60rem; }
        form.twin fieldset > label, form.twin .sub { display: block; margin: 8px 0 2px; }
        form.twin select, form.twin input[type="file"] { max-width: 100%; }
        form.twin .choice { padding: 8px 0; border-top: 1px solid var(--line); }
        form.twin .choice:first-of-type { border-top: none; }
        form.twin .choice p { margin: 4px 0 0; }
        .numbers { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin-top: 6px; }
        .numbers input { width: 7rem; }
        .numbers .pair { white-space: nowrap; }
        .checks { display: flex; flex-wrap: wrap; gap: 6px 18px; }
        label.check { display: inline-flex; gap: 6px; align-items: center; }
        input[type="checkbox"], input[type="radio"] { min-height: 0; width: 1.15rem; height: 1.15rem; margin: 0 4px 0 0; vertical-align: middle; accent-color: #0a4fb5; }
        .problem-box { border: 2px solid var(--bad); border-radius: 4px; padding: 4px 12px; margin-bottom: 12px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 16px; }
        figure.chart { margin: 0; }
        figure.chart img { display: block; width: 100%; height: auto; border: 1px solid var(--line); }
        figcaption { color: var(--muted); font-size: 0.9em; margin-top: 4px; }
        progress { width: min(24rem, 100%); height: 1.2rem; vertical-align: middle; accent-color: #2c5fb8; }
        .progress label { margin-right: 8px; }
        .scroll.tall { max-height: 24rem; overflow-y: auto; }
        @media (max-width: 600px) {
          .signout { margin-left: 0; }
          th, td { padding: 5px 6px; }
          dl.facts { grid-template-columns: 1fr; }
          dl.facts dd { margin-bottom: 6px; }
          table.cards thead { position: absolute; left: -9999px; }
          table.cards caption { display: block; width: 100%; }
          table.cards, table.cards tbody, table.cards tfoot, table.cards tr, table.cards td, table.cards th[scope="row"] { display: block; width: 100%; }
          table.cards th[scope="row"] { background: none; padding: 2px 0; white-space: normal; }
          table.cards tr { border-bottom: 2px solid var(--line); padding: 6px 0; }
          table.cards td { display: flow-root; border: none; padding: 2px 0 2px 8rem; text-align: left; }
          table.cards td::before { content: attr(data-label); float: left; width: 7.5rem; margin-left: -8rem; color: var(--muted); }
        }
        """;

    /// <summary>
    /// The script: refreshes a live region (the queue's rows, a twin run's status) from its fragment URL every
    /// few seconds, keeping the user's place — rows are sorted by id, the scroll position stays, nothing is
    /// replaced while the keyboard is inside it, and a button pauses it; a region whose content carries
    /// <c>data-final</c> (a twin run that has ended) is not refreshed again. Without script the page still works.
    /// </summary>
    public const string Js = """
        (function () {
          "use strict";
          function start(region) {
            var url = region.getAttribute("data-refresh");
            var every = parseInt(region.getAttribute("data-every") || "5", 10) * 1000;
            var toggle = document.querySelector("[data-pause-for='" + region.id + "']");
            var stamp = document.querySelector("[data-stamp-for='" + region.id + "']");
            var paused = false;
            var timer = null;
            function finished() { return region.querySelector("[data-final]") !== null; }
            function stop() {
              if (timer !== null) clearInterval(timer);
              timer = null;
              if (toggle) toggle.hidden = true;
            }
            if (finished()) return;
            if (toggle) {
              toggle.hidden = false;
              toggle.addEventListener("click", function () {
                paused = !paused;
                toggle.textContent = paused ? "Resume updates" : "Pause updates";
                toggle.setAttribute("aria-pressed", paused ? "true" : "false");
              });
            }
            function tick() {
              if (paused || document.hidden || region.contains(document.activeElement)) return;
              fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
                .then(function (r) {
                  // Signed out meanwhile (token revoked, or signed out in another tab): back to the sign-in form.
                  if (r.status === 401) { window.location.assign("/signin"); return null; }
                  // Gone (a twin run forgotten): nothing more to show here.
                  if (r.status === 404) { stop(); return null; }
                  return r.ok ? r.text() : null;
                })
                .then(function (html) {
                  if (html === null || timer === null || paused || region.contains(document.activeElement)) return;
                  region.innerHTML = html;
                  if (stamp) stamp.textContent = "Updated " + new Date().toLocaleTimeString();
                  if (finished()) stop();
                })
                .catch(function () { });
            }
            timer = setInterval(tick, every);
          }
          document.addEventListener("DOMContentLoaded", function () {
            document.querySelectorAll("[data-refresh]").forEach(start);
            document.querySelectorAll("form[data-confirm]").forEach(function (f) {
              f.addEventListener("submit", function (e) {
                if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
              });
            });
          });
        })();
        """;
}
