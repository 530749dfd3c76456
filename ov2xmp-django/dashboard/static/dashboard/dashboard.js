// The dashboard's live part, shared by every page (protocol: docs/live-updates.md).
//
// The page names its feed topics (#feed-topics). Sections marked
// data-fragment="<name>" data-refresh-on="<event types>" are fetched again
// (?fragment=<name>) when such an event arrives, at most twice a second each;
// page scripts take other events through dashboard.onEvent.
"use strict";

const dashboard = (() => {
  const REFRESH_DELAY_MS = 500;
  const RENEW_BEFORE_EXPIRY_MS = 60_000;
  const MAX_RETRY_DELAY_MS = 30_000;

  const badge = document.getElementById("feed-state");
  const topicsElement = document.getElementById("feed-topics");
  const topics = topicsElement ? JSON.parse(topicsElement.textContent) : [];
  const handlers = [];
  const timers = new Map();
  const latestFetch = new Map(); // section → number of its newest fetch
  let socket = null;
  let retryDelay = 1000;
  let renewal = null;

  function showState(text, colour) {
    if (!badge) return;
    badge.textContent = text;
    badge.className = `badge text-bg-${colour} me-3`;
  }

  function formatTime(iso) {
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? iso : at.toLocaleString();
  }

  function localizeTimes(root) {
    for (const element of root.querySelectorAll("time[datetime]")) {
      element.title = element.getAttribute("datetime");
      element.textContent = formatTime(element.getAttribute("datetime"));
    }
  }

  function timeElement(iso) {
    const element = document.createElement("time");
    element.setAttribute("datetime", iso);
    element.title = iso;
    element.textContent = formatTime(iso);
    return element;
  }

  async function fetchFragment(name) {
    const url = new URL(window.location.href);
    url.searchParams.set("fragment", name);
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (response.redirected || response.status === 403) {
      window.location.reload(); // logged out, or the permission is gone
      return null;
    }
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
  }

  async function refresh(section) {
    const ticket = (latestFetch.get(section) ?? 0) + 1;
    latestFetch.set(section, ticket);
    try {
      const html = await fetchFragment(section.dataset.fragment);
      // An older fetch that answers after a newer one must not undo it.
      if (html === null || latestFetch.get(section) !== ticket) return;
      section.innerHTML = html;
      localizeTimes(section);
      section.dispatchEvent(new CustomEvent("fragment:loaded", { bubbles: true }));
    } catch (error) {
      console.warn("dashboard: could not refresh", section.dataset.fragment, error);
    }
  }

  function refreshSoon(section) {
    if (timers.has(section)) return;
    timers.set(section, setTimeout(() => {
      timers.delete(section);
      refresh(section);
    }, REFRESH_DELAY_MS));
  }

  function sections() {
    return document.querySelectorAll("[data-fragment][data-refresh-on]");
  }

  function dispatch(event) {
    for (const section of sections()) {
      if (section.dataset.refreshOn.split(/\s+/).includes(event.type)) refreshSoon(section);
    }
    if (event.type === "charger.heartbeat") {
      for (const cell of document.querySelectorAll(`[data-heartbeat="${CSS.escape(event.charger_id)}"]`)) {
        cell.replaceChildren(timeElement(event.at));
      }
    }
    for (const handler of handlers) {
      try {
        handler(event);
      } catch (error) {
        console.error("dashboard: event handler failed", event, error);
      }
    }
  }

  // Read every section again: events were missed (see docs/live-updates.md).
  function resync() {
    for (const section of sections()) refresh(section);
    document.dispatchEvent(new CustomEvent("feed:resync"));
  }

  async function token() {
    const response = await fetch("/feed-token/", { credentials: "same-origin" });
    if (response.status === 403) {
      window.location.reload(); // the session ended: the page goes to the login
      throw new Error("logged out");
    }
    if (!response.ok) throw new Error(`feed token: HTTP ${response.status}`);
    return response.json();
  }

  function scheduleRenewal(expiresAt) {
    clearTimeout(renewal);
    const delay = Math.max(expiresAt * 1000 - Date.now() - RENEW_BEFORE_EXPIRY_MS, 5_000);
    renewal = setTimeout(async () => {
      try {
        const fresh = await token();
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "authenticate", token: fresh.token }));
        }
      } catch (error) {
        console.warn("dashboard: token renewal failed", error);
      }
    }, delay);
  }

  async function connect() {
    if (!topics.length) return;
    showState("connecting…", "secondary");
    let credentials;
    try {
      credentials = await token();
    } catch (error) {
      console.warn("dashboard:", error);
      return retry();
    }
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/updates/`);
    const waiting = new Set(topics);
    socket.onopen = () => socket.send(JSON.stringify({ type: "authenticate", token: credentials.token }));
    socket.onmessage = (message) => {
      const content = JSON.parse(message.data);
      if (content.type === "authenticated") {
        scheduleRenewal(content.expires_at);
        if (waiting.size) for (const topic of topics) socket.send(JSON.stringify({ type: "subscribe", topic }));
      } else if (content.type === "subscribed") {
        waiting.delete(content.topic);
        if (!waiting.size) {
          retryDelay = 1000;
          showState("live", "success");
          resync(); // whatever changed before the subscriptions took hold
        }
      } else if (content.type === "events_lost") {
        console.info("dashboard: events lost on", content.topic);
        resync();
      } else if (content.type === "error") {
        console.warn("dashboard: feed error", content);
        if (content.topic) showState(content.error, "warning");
      } else if (content.schema) {
        dispatch(content);
      }
    };
    socket.onclose = (close) => {
      clearTimeout(renewal);
      console.info("dashboard: feed closed", close.code, close.reason);
      retry();
    };
  }

  function retry() {
    showState("offline", "danger");
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY_MS);
  }

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  localizeTimes(document);
  connect();

  return {
    onEvent(handler) { handlers.push(handler); },
    fetchFragment,
    formatTime,
    timeElement,
    csrfToken,
  };
})();
