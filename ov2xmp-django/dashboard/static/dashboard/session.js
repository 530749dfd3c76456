// The session page: power and energy over time, new meter values added live.
"use strict";

(() => {
  const POWER = "Power.Active.Import";
  const ENERGY = "Energy.Active.Import.Register";
  const WATTS = { W: 1, kW: 1000, "": 1 };
  const WATT_HOURS = { Wh: 1, kWh: 1000, "": 1 };
  const canvas = document.getElementById("session-chart");
  const empty = document.getElementById("chart-empty");
  const sessionId = JSON.parse(document.getElementById("feed-topics").textContent)[0].split(":")[1];

  const chart = new Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        { label: "Power (kW)", data: [], yAxisID: "power", borderColor: "#0d6efd", pointRadius: 2, spanGaps: true },
        { label: "Energy (kWh)", data: [], yAxisID: "energy", borderColor: "#198754", pointRadius: 2, spanGaps: true },
      ],
    },
    options: {
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", ticks: { callback: (value) => new Date(value).toLocaleTimeString() } },
        power: { position: "left", title: { display: true, text: "kW" }, beginAtZero: true },
        energy: { position: "right", title: { display: true, text: "kWh" }, grid: { drawOnChartArea: false } },
      },
      plugins: { tooltip: { callbacks: { title: (items) => new Date(items[0].parsed.x).toLocaleString() } } },
    },
  });

  // Points by time: the page's series and live meter values merge, whichever
  // arrives first (a refetched series must not drop a point the feed added).
  const power = new Map();
  const energy = new Map();

  function add(at, powerW, energyWh) {
    const x = new Date(at).getTime();
    if (powerW !== null && powerW !== undefined) power.set(x, powerW / 1000);
    if (energyWh !== null && energyWh !== undefined) energy.set(x, energyWh / 1000);
  }

  function load(series) {
    for (const point of series) add(point.at, point.power_w, point.energy_wh);
    redraw();
  }

  function redraw() {
    [power, energy].forEach((points, index) => {
      chart.data.datasets[index].data = [...points].map(([x, y]) => ({ x, y })).sort((a, b) => a.x - b.x);
    });
    empty.classList.toggle("d-none", power.size + energy.size > 0);
    chart.update();
  }

  // As the server sums it (dashboard/selectors.py): the phase-less value, else the phases.
  function totalPower(samples) {
    const byPhase = new Map();
    for (const sample of samples) {
      if (sample.measurand !== POWER || !(sample.unit in WATTS)) continue;
      const value = Number.parseFloat(sample.value);
      if (Number.isFinite(value)) byPhase.set(sample.phase, value * WATTS[sample.unit]);
    }
    if (byPhase.has("")) return byPhase.get("");
    for (const phases of [["L1", "L2", "L3"], ["L1-N", "L2-N", "L3-N"]]) {
      const values = phases.filter((phase) => byPhase.has(phase)).map((phase) => byPhase.get(phase));
      if (values.length) return values.reduce((sum, value) => sum + value, 0);
    }
    return null;
  }

  function register(samples) {
    const sample = samples.find((candidate) => candidate.measurand === ENERGY && !candidate.phase && candidate.unit in WATT_HOURS);
    const value = sample ? Number.parseFloat(sample.value) : Number.NaN;
    return Number.isFinite(value) ? value * WATT_HOURS[sample.unit] : null;
  }

  load(JSON.parse(document.getElementById("session-series").textContent));

  dashboard.onEvent((event) => {
    if (event.type !== "meter_values" || String(event.transaction_id) !== sessionId) return;
    for (const reading of event.data.readings) {
      add(reading.timestamp, totalPower(reading.sampled_values), register(reading.sampled_values));
    }
    redraw();
  });

  // Meter values the feed missed: before it subscribed, while it was away, or lost.
  document.addEventListener("feed:resync", async () => {
    const html = await dashboard.fetchFragment("chart");
    if (html === null) return;
    const holder = document.createElement("div");
    holder.innerHTML = html;
    load(JSON.parse(holder.querySelector("script").textContent));
  });
})();
