// The overview: energy and sessions per day, redrawn when the totals are refreshed.
"use strict";

(() => {
  const canvas = document.getElementById("daily-chart");
  if (!canvas) return; // sessions are not the user's to see
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        { label: "Energy (kWh)", data: [], yAxisID: "energy", backgroundColor: "#198754" },
        { label: "Sessions", data: [], yAxisID: "sessions", backgroundColor: "#0d6efd", type: "line" },
      ],
    },
    options: {
      animation: false,
      scales: {
        energy: { position: "left", beginAtZero: true, title: { display: true, text: "kWh" } },
        sessions: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false } },
      },
    },
  });

  function draw() {
    const days = JSON.parse(document.getElementById("daily-data").textContent);
    chart.data.labels = days.map((day) => day.day);
    chart.data.datasets[0].data = days.map((day) => day.energy_kwh);
    chart.data.datasets[1].data = days.map((day) => day.sessions);
    chart.update();
  }

  draw();
  document.getElementById("totals").addEventListener("fragment:loaded", draw);
})();
