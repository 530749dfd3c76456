// The charger page: live meter values, the live OCPP message log, and the
// command forms (sent through the command API, the charger's answer shown).
"use strict";

(() => {
  const MAX_FRAMES = 500;
  const DIRECTIONS = { received: "charger → CSMS", sent: "CSMS → charger" };
  const MESSAGE_TYPES = { 2: "CALL", 3: "CALLRESULT", 4: "CALLERROR" };

  function cell(text, className) {
    const element = document.createElement("td");
    if (className) element.className = className;
    element.textContent = text ?? "";
    return element;
  }

  // --- meter values --------------------------------------------------------------------
  const readings = document.querySelector("#meter-readings tbody");

  function showReadings(event) {
    const newest = event.data.readings.at(-1);
    if (!newest || !readings) return;
    document.getElementById("meter-empty").classList.add("d-none");
    document.getElementById("meter-readings").classList.remove("d-none");
    for (const sample of newest.sampled_values) {
      const key = [event.data.evse_id, sample.measurand, sample.phase, sample.location].join("|");
      let row = [...readings.rows].find((candidate) => candidate.dataset.key === key);
      if (!row) {
        row = readings.insertRow();
        row.dataset.key = key;
      }
      row.replaceChildren(
        cell(event.data.evse_id),
        cell(sample.measurand),
        cell(sample.phase),
        cell(sample.value, "text-end meter-value"),
        cell(sample.unit),
      );
      const sampled = document.createElement("td");
      sampled.append(dashboard.timeElement(newest.timestamp));
      row.append(sampled);
    }
  }

  // --- the OCPP message log ------------------------------------------------------------
  const frames = document.querySelector("#frames tbody");
  const follow = document.getElementById("frames-follow");

  function showFrame(event) {
    if (!frames || (follow && !follow.checked)) return;
    const frame = event.data;
    const row = document.createElement("tr");
    row.className = `frame frame-${frame.direction}`;
    const at = document.createElement("td");
    at.append(dashboard.timeElement(event.at));
    const payload = document.createElement("pre");
    payload.className = "mb-0 small";
    payload.textContent = frame.message_type ? JSON.stringify(frame.payload, null, 2) : frame.raw;
    const payloadCell = document.createElement("td");
    payloadCell.append(payload);
    row.append(
      at,
      cell(DIRECTIONS[frame.direction] ?? frame.direction),
      cell(MESSAGE_TYPES[frame.message_type] ?? "unparseable"),
      cell([frame.action, frame.error_code].filter(Boolean).join(" ")),
      cell(frame.unique_id, "text-break small"),
      payloadCell,
    );
    frames.append(row);
    while (frames.rows.length > MAX_FRAMES) frames.deleteRow(0);
    const scroller = frames.closest(".frames-scroll");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }

  dashboard.onEvent((event) => {
    if (event.type === "meter_values") showReadings(event);
    else if (event.type === "ocpp.frame") showFrame(event);
  });

  // --- commands ------------------------------------------------------------------------

  // {"evse.id": "1"} → {evse: {id: 1}}; "a.0.b" makes a list at "a".
  function payloadOf(form) {
    const payload = {};
    for (const input of form.querySelectorAll("[name]")) {
      const text = input.value.trim();
      if (text === "") continue;
      let value = text;
      if (input.dataset.kind === "integer") value = Number.parseInt(text, 10);
      else if (input.dataset.kind === "keys") value = text.split(",").map((key) => key.trim()).filter(Boolean);
      const path = input.name.split(".");
      let node = payload;
      path.slice(0, -1).forEach((part, index) => {
        if (node[part] === undefined) node[part] = /^\d+$/.test(path[index + 1]) ? [] : {};
        node = node[part];
      });
      node[path.at(-1)] = value;
    }
    return payload;
  }

  function showResult(element, colour, title, detail) {
    const heading = document.createElement("div");
    heading.className = `fw-semibold text-${colour}`;
    heading.textContent = title;
    const body = document.createElement("pre");
    body.className = "mb-0";
    body.textContent = detail;
    element.replaceChildren(heading, body);
  }

  async function send(form) {
    const result = form.querySelector(".command-result");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    showResult(result, "secondary", "Sending…", "");
    try {
      const response = await fetch(form.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": dashboard.csrfToken() },
        body: JSON.stringify({ charge_point: form.dataset.charger, payload: payloadOf(form), wait: 10 }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 202) {
        showResult(result, "warning", `202: ${body.status}`, "No answer yet: it will show under Recent commands.");
      } else if (body.status) {
        const answered = body.status === "Answered";
        const detail = answered ? body.response : { error: body.error_code, description: body.error_description };
        showResult(result, answered ? "success" : "danger", `${response.status}: ${body.status}`, JSON.stringify(detail, null, 2));
      } else {
        showResult(result, "danger", `${response.status}: refused`, JSON.stringify(body, null, 2));
      }
    } catch (error) {
      showResult(result, "danger", "Not sent", String(error));
    } finally {
      button.disabled = false;
    }
  }

  for (const form of document.querySelectorAll("form.command-form")) {
    form.addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      send(form);
    });
  }
})();
