#include "service/admin/ConsolePage.h"

namespace echod {
namespace {

// One page, no external resource: it must work offline and in the container.
// Everything a message or a peer brings is shown with textContent, never as HTML.
constexpr std::string_view kPage = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>echod console</title>
<style>
  :root { --fg:#1d2430; --muted:#5b6676; --line:#d8dde5; --accent:#1f6feb; --ok:#1a7f37; --bad:#cf222e; --bg:#f6f8fa; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
  header { padding:12px 16px; background:#fff; border-bottom:1px solid var(--line); display:flex; gap:12px; align-items:baseline; flex-wrap:wrap; }
  header h1 { font-size:18px; margin:0; }
  header span { color:var(--muted); }
  main { display:flex; flex-wrap:wrap; gap:16px; padding:16px; }
  section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; flex:1 1 340px; min-width:0; }
  h2 { font-size:15px; margin:0 0 8px; }
  .row { display:flex; gap:8px; margin-bottom:8px; }
  input { flex:1; min-width:0; padding:8px; border:1px solid var(--line); border-radius:6px; font:inherit; }
  button { padding:8px 14px; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:6px; font:inherit; cursor:pointer; }
  button:disabled { opacity:.45; cursor:default; }
  button.secondary { background:#fff; color:var(--accent); }
  #replies { list-style:none; margin:0; padding:8px; height:260px; overflow:auto; background:var(--bg); border-radius:6px; font-family:ui-monospace, Menlo, Consolas, monospace; white-space:pre-wrap; word-break:break-all; }
  #replies li.sent { color:var(--muted); }
  #replies li.fin { color:var(--ok); font-weight:600; }
  #replies li.err { color:var(--bad); font-weight:600; }
  #status { margin-top:8px; color:var(--muted); }
  #status.connected { color:var(--ok); }
  #status.failed { color:var(--bad); }
  .gauges { display:flex; gap:12px; flex-wrap:wrap; margin-bottom:10px; }
  .gauge { background:var(--bg); border-radius:6px; padding:6px 10px; }
  .gauge b { font-size:20px; display:block; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  th, td { text-align:left; padding:3px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
  .scroll { overflow:auto; max-height:240px; }
  #events { list-style:none; margin:0; padding:0; font-size:13px; max-height:200px; overflow:auto; }
  #events li { padding:2px 0; border-bottom:1px dotted var(--line); }
  .hint { color:var(--muted); font-size:13px; }
  tr.fault td:first-child::before { content:"\26A1 "; }
  tr.fault td { color:#9a3412; }
  tr.delaying td { background:#fff7ed; font-weight:600; }
</style>
</head>
<body>
<header><h1>echod</h1><span id="subtitle"></span></header>
<main>
  <section aria-labelledby="client-title">
    <h2 id="client-title"></h2>
    <div class="row">
      <input id="server" readonly aria-label="echo server">
      <button id="connect" type="button"></button>
    </div>
    <form id="form" class="row" autocomplete="off">
      <input id="message" maxlength="65536" disabled>
      <button id="send" type="submit" disabled></button>
    </form>
    <ul id="replies" aria-live="polite"></ul>
    <div id="status" role="status"></div>
  </section>
  <section aria-labelledby="live-title">
    <h2 id="live-title"></h2>
    <div class="gauges">
      <div class="gauge"><b id="busy">–</b><span id="busy-label"></span></div>
      <div class="gauge"><b id="started">–</b><span id="started-label"></span></div>
      <div class="gauge"><b id="max">–</b><span id="max-label"></span></div>
      <div class="gauge"><b id="queued">–</b><span id="queued-label"></span></div>
    </div>
    <div class="scroll"><table>
      <thead><tr><th data-t="peer"></th><th data-t="listener"></th><th data-t="age"></th><th data-t="messages"></th><th data-t="bytes"></th><th data-t="state"></th></tr></thead>
      <tbody id="connections"></tbody>
    </table></div>
    <p class="hint" id="open-count"></p>
    <h2 id="events-title"></h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
"use strict";
const T = {
  en: { subtitle: "threaded echo server: one worker thread per connection", client: "Client", connect: "Connect",
    disconnect: "Disconnect", send: "Send", placeholder: "message, Enter sends", live: "Worker threads, live",
    busy: "busy", started: "started", max: "max", queued: "queued", peer: "peer", listener: "listener", age: "age",
    messages: "messages", bytes: "bytes in/out", state: "state", events: "Last connection events",
    idle: "not connected", connecting: "connecting…", connected: "connected: every line you send takes a round trip through a worker thread",
    fin: "closed by the server with FIN", err: "closed by the server: ERR ", lost: "connection lost", closedBy: "closed: ",
    refused: "the console could not connect", opened: "opened", closed: "closed", open: "open connections: ",
    masked: " (addresses masked: this browser is not on the server's machine)", draining: " — the server is shutting down",
    delaying: "delaying, thread busy", fault: " (faults)" },
  fr: { subtitle: "serveur d'écho multithread : un thread par connexion", client: "Client", connect: "Connexion",
    disconnect: "Déconnexion", send: "Envoyer", placeholder: "message, Entrée envoie", live: "Threads de travail, en direct",
    busy: "occupés", started: "démarrés", max: "max", queued: "en attente", peer: "pair", listener: "écoute", age: "âge",
    messages: "messages", bytes: "octets reçus/envoyés", state: "état", events: "Derniers événements de connexion",
    idle: "non connecté", connecting: "connexion…", connected: "connecté : chaque ligne envoyée fait l'aller-retour par un thread",
    fin: "fermé par le serveur avec FIN", err: "fermé par le serveur : ERR ", lost: "connexion perdue", closedBy: "fermé : ",
    refused: "la console n'a pas pu se connecter", opened: "ouverte", closed: "fermée", open: "connexions ouvertes : ",
    masked: " (adresses masquées : ce navigateur n'est pas sur la machine du serveur)", draining: " — le serveur s'arrête",
    delaying: "retardée, thread occupé", fault: " (pannes)" }
};
const lang = (navigator.languages || [navigator.language || "en"]).some(l => String(l).toLowerCase().startsWith("fr")) ? "fr" : "en";
const t = T[lang];
document.documentElement.lang = lang;
const $ = id => document.getElementById(id);
const text = (id, value) => { $(id).textContent = value; };
text("subtitle", t.subtitle); text("client-title", t.client); text("live-title", t.live); text("events-title", t.events);
text("send", t.send); text("busy-label", t.busy); text("started-label", t.started); text("max-label", t.max); text("queued-label", t.queued);
$("message").placeholder = t.placeholder;
$("server").value = location.host;
document.querySelectorAll("[data-t]").forEach(th => { th.textContent = t[th.dataset.t]; });

let ws = null;
let lastLine = "";
function status(message, kind) { const s = $("status"); s.textContent = message; s.className = kind || ""; }
function setConnected(on) {
  $("connect").textContent = on ? t.disconnect : t.connect;
  $("connect").className = on ? "secondary" : "";
  $("message").disabled = !on; $("send").disabled = !on;
  if (on) $("message").focus();
}
function addReply(line, kind) {
  const li = document.createElement("li");
  li.textContent = line;
  if (kind) li.className = kind;
  const list = $("replies");
  list.appendChild(li);
  while (list.children.length > 500) list.removeChild(list.firstChild);
  list.scrollTop = list.scrollHeight;
}
function connect() {
  if (ws) { ws.close(1000, "disconnected"); return; }
  lastLine = "";
  status(t.connecting);
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/console/ws");
  ws = socket;
  let opened = false;
  socket.onopen = () => { opened = true; setConnected(true); status(t.connected, "connected"); };
  socket.onmessage = event => {
    const line = String(event.data);
    lastLine = line;
    addReply(line, line === "FIN" ? "fin" : line.startsWith("ERR ") ? "err" : "");
  };
  socket.onclose = event => {
    ws = null;
    setConnected(false);
    if (!opened) status(t.refused, "failed");
    else if (lastLine === "FIN") status(t.fin);
    else if (lastLine.startsWith("ERR ")) status(t.err + lastLine.slice(4), "failed");
    else if (event.code === 1000 && event.reason === "disconnected") status(t.idle);
    else if (event.code === 1000 || event.code === 1001) status(t.closedBy + (event.reason || t.lost));
    else status(t.lost, "failed");
  };
}
$("connect").addEventListener("click", connect);
$("form").addEventListener("submit", event => {
  event.preventDefault();
  const input = $("message");
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(input.value);
  addReply("> " + input.value, "sent");
  input.value = "";
});
setConnected(false);
status(t.idle);

function ago(ms) { return ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : Math.round(ms / 60000) + " min"; }
function cell(row, value) { const td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
async function refresh() {
  try {
    const response = await fetch("/console/state", { cache: "no-store" });
    const s = await response.json();
    $("server").value = s.echo;
    text("busy", s.pool.busy); text("started", s.pool.started); text("max", s.pool.max); text("queued", s.pool.queued);
    const body = $("connections");
    body.replaceChildren(...s.connections.map(c => {
      const row = document.createElement("tr");
      // Faults on demand: a drawn connection is marked; a held reply shows its thread busy.
      if (c.faults) row.classList.add("fault");
      if (c.state === "delaying") row.classList.add("delaying");
      const state = (c.state === "delaying" ? t.delaying : c.state) + (c.faults ? t.fault : "");
      [c.proxy ? c.peer + " via " + c.proxy : c.peer, c.listener, ago(c.ageMs), c.messages, c.bytesIn + " / " + c.bytesOut, state].forEach(v => cell(row, String(v)));
      return row;
    }));
    text("open-count", t.open + s.open + (s.masked ? t.masked : "") + (s.draining ? t.draining : ""));
    $("events").replaceChildren(...s.events.slice().reverse().map(e => {
      const li = document.createElement("li");
      li.textContent = ago(e.agoMs) + " · " + e.peer + " (" + e.listener + ") " + (e.event === "opened" ? t.opened : t.closed + ": " + e.reason);
      return li;
    }));
  } catch (e) { /* the server is gone or restarting: try again next tick */ }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string_view consolePage() { return kPage; }

}  // namespace echod
