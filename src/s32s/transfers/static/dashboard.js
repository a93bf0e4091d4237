// The s32s transfers dashboard: runs from /summary, one run's throughput and failures from
// /summary/{epoch}. Everything is drawn with DOM calls (textContent, never innerHTML), so an
// object key in a log can never become markup. Served by `s32s logs serve`; nothing external.
"use strict";

(function () {
  const TOKEN_KEY = "s32s-api-token";
  const LIVE_MS = 2000; // refresh while a run is Running
  const IDLE_MS = 15000; // refresh otherwise
  const SVG = "http://www.w3.org/2000/svg";
  const CHART = { width: 720, height: 260, left: 78, right: 16, top: 14, bottom: 36 };

  let selected = null; // epoch of the run shown below the table
  let timer = null;

  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ token
  function takeTokenFromFragment() {
    // `#token=...` (used once, e.g. by a script opening the page) is moved to sessionStorage
    // and removed from the address bar and the history.
    const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      const rest = location.hash.replace(/(?:^#|&)token=[^&]*/, "").replace(/^&/, "");
      history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    }
  }

  function showLogin(message) {
    clearTimeout(timer);
    $("dashboard").hidden = true;
    $("login").hidden = false;
    $("login-error").hidden = !message;
    $("login-error").textContent = message || "";
    $("status-line").textContent = "Waiting for the API token.";
    $("token").focus();
  }

  class Unauthorized extends Error {}

  async function api(path) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) throw new Unauthorized("");
    const response = await fetch(path, {
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
      cache: "no-store",
    });
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      throw new Unauthorized("The server refused this token.");
    }
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.status + " " + response.statusText);
    return body;
  }

  // ------------------------------------------------------------------ formatting
  function formatBytes(value) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let number = Number(value) || 0;
    let unit = 0;
    while (Math.abs(number) >= 1024 && unit < units.length - 1) {
      number /= 1024;
      unit += 1;
    }
    return unit === 0 ? number.toFixed(0) + " B" : number.toFixed(1) + " " + units[unit];
  }

  function formatSeconds(value) {
    const seconds = Number(value) || 0;
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + Math.round(seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function formatObjects(run) {
    return run.objects_to_move === null
      ? String(run.objects_moved)
      : run.objects_moved + " / " + run.objects_to_move;
  }

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  // ------------------------------------------------------------------ runs table
  function renderRuns(summary) {
    const body = $("runs").querySelector("tbody");
    body.replaceChildren();
    $("no-runs").hidden = summary.runs.length > 0;
    for (const run of summary.runs) {
      const row = document.createElement("tr");
      row.dataset.epoch = run.epoch;
      row.dataset.status = run.status;
      row.dataset.objects = run.objects_moved;
      row.dataset.bytes = run.bytes_transferred;
      row.dataset.failures = run.failures;
      row.tabIndex = 0;
      row.className = "run status-" + String(run.status).toLowerCase();
      if (run.epoch === selected) row.classList.add("selected");
      row.append(
        element("td", run.status, "status"),
        element("td", run.start_time, "start"),
        element("td", formatSeconds(run.duration_seconds), "duration"),
        element("td", formatObjects(run), "objects"),
        element("td", formatBytes(run.bytes_transferred), "bytes"),
        element("td", String(run.failures), run.failures ? "failures error" : "failures"),
        element("td", run.source + " → " + run.destination, "sides"),
      );
      row.addEventListener("click", () => select(run.epoch));
      row.addEventListener("keydown", (event) => {
        if (event.key === "Enter") select(run.epoch);
      });
      body.append(row);
    }
    const problems = summary.problems.length ? " " + summary.problems.length + " unreadable log(s)." : "";
    $("status-line").textContent =
      summary.runs.length + " run(s), " + summary.running + " running. Updated " +
      new Date().toLocaleTimeString() + "." + problems;
  }

  // ------------------------------------------------------------------ one run
  function renderDetail(run) {
    $("detail").hidden = false;
    $("detail").dataset.epoch = run.epoch;
    $("detail-title").textContent = "Run " + run.epoch + " (" + run.status + ")";
    $("detail-facts").textContent =
      run.source + " → " + run.destination + ", started " + run.start_time + ", " +
      formatSeconds(run.duration_seconds) + ", " + formatObjects(run) + " objects, " +
      formatBytes(run.bytes_transferred) + " of " + formatBytes(run.total_bytes_to_move) + ".";
    drawChart(run.throughput);
    const body = $("failures").querySelector("tbody");
    body.replaceChildren();
    for (const failure of run.failed_objects) {
      const row = document.createElement("tr");
      row.append(element("td", failure.key, "key"), element("td", failure.reason, "reason"));
      body.append(row);
    }
    $("failures").hidden = run.failed_objects.length === 0;
    $("no-failures").hidden = run.failed_objects.length > 0;
  }

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function drawChart(throughput) {
    const chart = $("chart");
    for (const child of Array.from(chart.children)) {
      if (child.tagName !== "title") child.remove();
    }
    const points = throughput.points;
    const plotWidth = CHART.width - CHART.left - CHART.right;
    const plotHeight = CHART.height - CHART.top - CHART.bottom;
    const lastT = points.length ? points[points.length - 1].t + throughput.bucket_seconds : 1;
    const peak = Math.max(1, ...points.map((point) => point.bytes_per_second));
    const x = (t) => CHART.left + (t / lastT) * plotWidth;
    const y = (value) => CHART.top + plotHeight - (value / peak) * plotHeight;

    const axes = svg("g", { class: "axes" });
    axes.append(
      svg("line", { x1: CHART.left, y1: CHART.top + plotHeight, x2: CHART.left + plotWidth, y2: CHART.top + plotHeight }),
      svg("line", { x1: CHART.left, y1: CHART.top, x2: CHART.left, y2: CHART.top + plotHeight }),
    );
    for (let tick = 0; tick <= 4; tick += 1) {
      const value = (peak * tick) / 4;
      axes.append(svg("text", { x: CHART.left - 6, y: y(value) + 4, class: "y-label" }, formatBytes(value) + "/s"));
      const t = (lastT * tick) / 4;
      axes.append(svg("text", { x: x(t), y: CHART.top + plotHeight + 18, class: "x-label" }, formatSeconds(t)));
    }
    chart.append(axes);

    const centre = (point) => point.t + throughput.bucket_seconds / 2;
    const line = svg("polyline", {
      class: "throughput",
      points: points.map((point) => x(centre(point)).toFixed(1) + "," + y(point.bytes_per_second).toFixed(1)).join(" "),
    });
    chart.append(line);
    const dots = svg("g", { class: "points" });
    for (const point of points) {
      const dot = svg("circle", {
        cx: x(centre(point)).toFixed(1),
        cy: y(point.bytes_per_second).toFixed(1),
        r: points.length > 60 ? 1.5 : 3,
        "data-t": point.t,
        "data-bytes-per-second": point.bytes_per_second,
      });
      dot.append(svg("title", {}, formatSeconds(point.t) + ": " + formatBytes(point.bytes_per_second) + "/s"));
      dots.append(dot);
    }
    chart.append(dots);
    chart.dataset.points = points.length;
  }

  // ------------------------------------------------------------------ refresh loop
  function select(epoch) {
    selected = epoch;
    history.replaceState(null, "", location.pathname + location.search + "#run=" + epoch);
    refresh();
  }

  async function refresh() {
    clearTimeout(timer);
    let live = false;
    try {
      const summary = await api("summary");
      $("login").hidden = true;
      $("dashboard").hidden = false;
      const epochs = summary.runs.map((run) => run.epoch);
      if (selected === null || !epochs.includes(selected)) selected = epochs.length ? epochs[0] : null;
      renderRuns(summary);
      live = summary.running > 0;
      if (selected !== null) renderDetail(await api("summary/" + selected));
      else $("detail").hidden = true;
    } catch (error) {
      if (error instanceof Unauthorized) {
        showLogin(error.message);
        return;
      }
      $("status-line").textContent = "Could not refresh: " + error.message + " Retrying.";
    }
    timer = setTimeout(refresh, live ? LIVE_MS : IDLE_MS);
  }

  function start() {
    takeTokenFromFragment();
    const wanted = /(?:^#|&)run=(\d+)/.exec(location.hash);
    if (wanted) selected = Number(wanted[1]);
    $("login").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
      $("token").value = "";
      refresh();
    });
    if (sessionStorage.getItem(TOKEN_KEY)) refresh();
    else showLogin("");
  }

  document.addEventListener("DOMContentLoaded", start);
})();
