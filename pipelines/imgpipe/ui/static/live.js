// Live progress. Polls /api/live (the newest run) and:
// - on the runs page, updates the running run's row in place (current step,
//   its elapsed time, the run's duration and step counts), and reloads when
//   a run starts or ends;
// - on a running run's page, updates the header every second and reloads
//   when a step finishes, so the graph and the steps table follow the run.
// Polls every second while a run is running, every 5 s otherwise.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");

  function duration(seconds) {
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
    return m + " min " + (s < 10 ? "0" : "") + s + " s";
  }

  function fill(scope, live) {
    var parts = {
      "[data-live-seconds]": duration(live.seconds),
      "[data-live-steps]": live.executed + " executed · " + live.cached + " cached",
      "[data-live-current]": live.current ?
        live.current + " · " + Math.round(live.current_seconds) + " s" : "between steps"
    };
    Object.keys(parts).forEach(function (selector) {
      var element = scope.querySelector(selector);
      if (element) element.textContent = parts[selector];
    });
  }

  function update(live) {
    var shown = document.querySelector("[data-run]");
    var row = live.run_id &&
      document.querySelector("[data-run='" + CSS.escape(live.run_id) + "']");
    var running = live.state === "running";
    if (page === "runs") {
      var newest = shown ? shown.getAttribute("data-run") : null;
      if (newest !== live.run_id || !!(row && row.hasAttribute("data-live")) !== running) {
        window.location.reload();
        return false;
      }
      if (running) fill(row, live);
      return running;
    }
    // A run's page: only loaded while that run is running.
    if (!row || !running ||
        live.steps.map(function (s) { return s.state; }).join(",") !==
          row.getAttribute("data-steps")) {
      window.location.reload();
      return false;
    }
    fill(document, live);
    return true;
  }

  function poll() {
    var running = true;
    fetch("/api/live", {cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (live) { running = update(live); })
      .catch(function () { /* the server is restarting: try again */ })
      .finally(function () { setTimeout(poll, running ? 1000 : 5000); });
  }
  setTimeout(poll, 1000);
})();
