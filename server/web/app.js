// The page: screens, the signaling socket and the call, after docs/protocol.md.
// Sentences come from sentences.js, the peer connection from rtc.js.

import { S, deviceCode, deviceMessage, fill } from "./sentences.js";
import { PeerLink } from "./rtc.js";

const $ = (id) => document.getElementById(id);
const SERVER = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const FATAL = new Set(["unauthorized", "unsupported_protocol", "hello_required"]);
// The call's resume ticket and what the page needs to pick the call up again after a reload,
// a dropped socket or a server restart (docs/protocol.md, "Resuming"). Per tab, gone with it.
const SAVED = "studymatch.call";
// A server that needs a token (docs/self-hosting.md, "Tokens") is linked to as /#token=...:
// a fragment never leaves the browser in a request, so it is in no server's or proxy's log.
const TOKEN = tokenFromLink();

function tokenFromLink() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (token && token.length <= 1024) {
    sessionStorage.setItem("studymatch.token", token);
    history.replaceState(null, "", location.pathname); // out of sight, and out of bookmarks
  }
  return sessionStorage.getItem("studymatch.token");
}

const app = {
  ws: null,
  welcome: null, // a promise of the `welcome` message while the socket is open
  mode: "video",
  topic: null,
  stream: null,
  session: null,
  initiator: false,
  partnerMode: "video",
  link: null,
  beat: 0,
  beatTimer: null,
  muted: false,
  cameraOn: true,
  reconnectDelay: 1,
  iceServers: [],
  refused: null, // the sentence for a server that will not let us in (a token)
};

// --- screens ---------------------------------------------------------------------------------

function show(screen) {
  for (const id of ["lobby", "searching", "call"]) $(id).hidden = id !== screen;
  document.body.dataset.screen = screen;
}

function notice(text, actions = {}) {
  $("notice").hidden = !text;
  $("notice-text").textContent = text || "";
  for (const [id, key] of [["notice-audio", "audio"], ["notice-continue", "continue"], ["notice-retry", "retry"]]) {
    $(id).hidden = !actions[key];
    $(id).onclick = actions[key] || null;
  }
}

function setStatus(text) {
  $("status").textContent = text || "";
}

function label() {
  const texts = {
    "lobby-heading": S.lobbyHeading, "lobby-sub": S.lobbySub, "mode-label": S.modeLabel,
    "mode-video": S.modeVideo, "mode-audio": S.modeAudio, "subject-label": S.subjectLabel,
    find: S.findPartner, "searching-title": S.searchingTitle, cancel: S.cancel, mute: S.mute,
    camera: S.cameraOff, next: S.next, end: S.end, report: S.report, "chat-send": S.chatSend,
    "chat-empty": S.chatEmpty, "report-title": S.reportTitle, "report-cancel": S.cancel,
    "report-send": S.reportSend, "notice-audio": S.actionAudioOnly, "notice-retry": S.actionTryAgain,
    "notice-continue": S.actionContinue,
  };
  for (const [id, text] of Object.entries(texts)) $(id).textContent = text;
  document.title = S.title;
  $("subject").placeholder = S.subjectPlaceholder;
  $("chat-input").placeholder = S.chatPlaceholder;
  for (const reason of S.reportReasons) $("report-reason").add(new Option(reason, reason));
}

// --- devices ---------------------------------------------------------------------------------

// Asked for one device at a time, so a failure names the device that failed.
async function openDevices(mode, microphone = true) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return { stream: null, problem: { device: "camera", text: S.noMediaDevices } };
  }
  const stream = new MediaStream();
  let problem = null;
  if (mode === "video") {
    try {
      const video = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
      });
      video.getTracks().forEach((t) => stream.addTrack(t));
    } catch (error) {
      problem = { device: "camera", code: deviceCode(error), text: deviceMessage("camera", error) };
    }
  }
  if (!problem && microphone) {
    try {
      const audio = await navigator.mediaDevices.getUserMedia({ audio: true });
      audio.getTracks().forEach((t) => stream.addTrack(t));
    } catch (error) {
      problem = { device: "microphone", code: deviceCode(error), text: deviceMessage("microphone", error) };
    }
  }
  if (problem) stream.getTracks().forEach((t) => t.stop());
  return { stream: problem ? null : stream, problem };
}

function dropDevices() {
  if (app.stream) app.stream.getTracks().forEach((t) => t.stop());
  app.stream = null;
  $("preview").srcObject = null;
  $("preview-note").textContent = S.previewIdle;
}

// A student who already allowed this site sees the camera in the lobby, as on the desktop;
// nobody else is asked for a device before pressing Find partner.
async function previewIfAllowed() {
  const mode = document.querySelector("input[name=mode]:checked").value;
  if (app.stream || mode !== "video" || !navigator.permissions || !navigator.mediaDevices) return;
  try {
    const [camera, microphone] = await Promise.all(
      ["camera", "microphone"].map((name) => navigator.permissions.query({ name })));
    if (camera.state !== "granted" || microphone.state !== "granted") return;
  } catch {
    return; // a browser that cannot say
  }
  const { stream } = await openDevices("video");
  if (!stream || app.stream || document.body.dataset.screen !== "lobby") {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    return;
  }
  app.stream = stream;
  $("preview").srcObject = stream;
  $("preview-note").textContent = "";
}

async function find(event) {
  if (event) event.preventDefault();
  app.mode = document.querySelector("input[name=mode]:checked").value;
  if (app.stream && app.mode === "audio") dropDevices(); // the lobby's preview had the camera
  app.topic = $("subject").value.trim() || null;
  await startSearch(false);
}

async function startSearch(withoutMicrophone) {
  notice(null);
  $("find").disabled = true;
  try {
    if (!app.stream) {
      const { stream, problem } = await openDevices(app.mode, !withoutMicrophone);
      if (problem) {
        showDeviceProblem(problem);
        return;
      }
      app.stream = stream;
    }
    $("preview").srcObject = app.stream;
    $("preview-note").textContent = app.mode === "audio" ? S.previewAudio : "";
    app.muted = false;
    app.cameraOn = true;
    await sendOrFail({ type: "find", mode: app.mode, topic: app.topic });
    showSearching();
  } catch {
    notice(app.refused || S.serverUnreachable, app.refused ? {} : { retry: () => startSearch(withoutMicrophone) });
  } finally {
    $("find").disabled = false;
  }
}

function showDeviceProblem(problem) {
  document.body.dataset.deviceError = problem.code || "unsupported";
  $("preview-note").textContent = S.previewNoCamera;
  const retry = () => startSearch(false);
  if (problem.device === "camera") {
    notice(problem.text, {
      audio: () => {
        document.querySelector("input[name=mode][value=audio]").checked = true;
        app.mode = "audio";
        startSearch(false);
      },
      retry,
    });
  } else {
    notice(problem.text, { continue: () => startSearch(true), retry });
  }
}

function showSearching() {
  $("searching-subject").textContent = app.topic ? fill(S.searchingSubject, { topic: app.topic }) : S.searchingAny;
  show("searching");
}

// --- the server ------------------------------------------------------------------------------

function connect() {
  if (app.welcome) return app.welcome;
  app.welcome = new Promise((resolve, reject) => {
    const ws = new WebSocket(SERVER);
    app.ws = ws;
    const hello = { type: "hello", protocol: 1, client: "studymatch-web/1", resume: true };
    if (TOKEN) hello.token = TOKEN;
    ws.onopen = () => ws.send(JSON.stringify(hello));
    ws.onmessage = (e) => {
      let message;
      try {
        message = JSON.parse(e.data);
      } catch {
        return;
      }
      if (message.type === "welcome") {
        app.reconnectDelay = 1;
        app.iceServers = message.ice_servers || []; // exactly the server's list (docs/protocol.md)
        setStatus("");
        const saved = savedCall();
        if (saved) ws.send(JSON.stringify({ type: "resume", ticket: saved.ticket })); // first request
        resolve(message);
      } else {
        receive(message);
      }
    };
    ws.onclose = () => {
      app.ws = null;
      app.welcome = null;
      reject(new Error("closed"));
      lostServer();
    };
  });
  app.welcome.catch(() => {});
  return app.welcome;
}

async function sendOrFail(message) {
  await connect();
  app.ws.send(JSON.stringify(message));
}

// Fire and forget: a server that is away is said (status line) and reconnected by lostServer().
function send(message) {
  return sendOrFail(message).catch(() => {});
}

function lostServer() {
  if (app.refused) return;
  const screen = document.body.dataset.screen;
  if (screen === "lobby" && !app.session) return; // nobody waits for it: connect on the next Find
  const seconds = app.reconnectDelay;
  app.reconnectDelay = Math.min(seconds * 2, 16);
  setStatus(fill(S.serverLost, { seconds }));
  setTimeout(async () => {
    try {
      await connect();
      if (document.body.dataset.screen === "searching") {
        await send({ type: "find", mode: app.mode, topic: app.topic });
      }
    } catch {
      // onclose schedules the next try
    }
  }, seconds * 1000);
}

// --- resuming ------------------------------------------------------------------------------

function savedCall() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SAVED) || "null");
    return saved && typeof saved.ticket === "string" ? saved : null;
  } catch {
    return null;
  }
}

function saveCall(changes) {
  const saved = { ...(savedCall() || {}), ...changes };
  if (typeof saved.ticket === "string" && app.session) sessionStorage.setItem(SAVED, JSON.stringify(saved));
}

function forgetCall() {
  sessionStorage.removeItem(SAVED);
}

async function resumed(m) {
  if (m.session === app.session && app.link) return; // the socket dropped, the call went on
  // A reload: the peer connection is gone. Devices again (allowed before: no prompt), then a
  // new connection with the next number, as a rebuild (docs/protocol.md, "Presence").
  const saved = savedCall() || {};
  app.mode = saved.mode === "audio" ? "audio" : "video";
  app.topic = saved.topic || null;
  document.querySelector(`input[name=mode][value=${app.mode}]`).checked = true;
  if (!app.stream) app.stream = (await openDevices(app.mode)).stream || new MediaStream();
  const next = (Number.isInteger(saved.restart) ? saved.restart : 0) + 1;
  startCall(m, next);
}

function receive(m) {
  if (typeof m.ticket === "string" && app.session && ["matched", "resumed", "ticket"].includes(m.type)) {
    saveCall({ ticket: m.ticket });
  }
  switch (m.type) {
    case "resumed":
      resumed(m).catch((error) => console.warn("resume:", error));
      break;
    case "replaced":
      endCall();
      show("lobby");
      break;
    case "queued":
      if (!app.session) showSearching();
      break;
    case "matched":
      startCall(m, 0);
      break;
    case "signal":
      if (m.session === app.session) onSignal(m.data).catch((error) => console.warn("signal:", error));
      break;
    case "partner_left":
      if (m.session !== app.session) {
        if (savedCall()) notice(S.partnerLeft); // the call we came back for ended meanwhile
        forgetCall();
        setStatus("");
        break;
      }
      endCall();
      if (m.reason === "reported" || !app.stream) {
        notice(m.reason === "reported" ? S.partnerReported : S.partnerLeft);
        show("lobby");
      } else {
        notice(S.partnerLeftAgain);
        send({ type: "find", mode: app.mode, topic: app.topic });
        showSearching();
      }
      break;
    case "partner_reconnecting":
      setStatus(S.partnerReconnecting);
      break;
    case "partner_resumed":
      setStatus("");
      break;
    case "reported":
      notice(S.reported);
      break;
    case "shutdown":
      app.reconnectDelay = Math.max(1, m.retry_after || 5);
      setStatus(fill(S.serverShutdown, { seconds: app.reconnectDelay }));
      break;
    case "error":
      if (m.code === "unauthorized") {
        app.refused = TOKEN ? S.tokenRejected : S.tokenNeeded; // no retry would change that
        notice(app.refused);
        break;
      }
      if (m.code === "bad_ticket") {
        forgetCall(); // too late to pick that call up: the lobby it is
        setStatus("");
        break;
      }
      notice(fill(S.serverError, { message: m.message }));
      if (FATAL.has(m.code)) app.reconnectDelay = 16;
      break;
    default:
      break; // idle, counts, ticket...: nothing to show
  }
}

// --- the call --------------------------------------------------------------------------------

function startCall(m, restart) {
  endCall();
  app.session = m.session;
  if (typeof m.ticket === "string") saveCall({ ticket: m.ticket, mode: app.mode, topic: app.topic, restart });
  app.initiator = m.initiator;
  app.partnerMode = (m.partner && m.partner.mode) || app.mode;
  $("chat-lines").replaceChildren();
  $("chat-empty").hidden = false;
  $("remote-note").textContent = S.connecting;
  $("self").srcObject = app.mode === "video" ? app.stream : null;
  $("self").hidden = app.mode !== "video";
  $("camera").hidden = app.mode !== "video";
  renderControls();
  notice(null);
  show("call");
  newLink(restart);
  if (app.initiator) {
    app.link.offer().catch((error) => console.warn("offer:", error));
  } else if (restart > 0) {
    // Back without a connection: ask the initiator for this one (it offers it).
    send({ type: "signal", session: app.session, data: { type: "restart", restart } });
  }
}

function newLink(restart) {
  if (app.link) app.link.close();
  const session = app.session;
  const mine = (f) => (...args) => session === app.session && link === app.link && f(...args);
  const link = new PeerLink({
    iceServers: app.iceServers,
    stream: app.stream,
    initiator: app.initiator,
    restart,
    mode: app.mode,
    events: {
      signal: mine((data) => send({ type: "signal", session, data })),
      chat: mine((text) => addChat(text, false)),
      state: mine(partnerState),
      stateOpen: mine(stateOpened),
      track: mine((stream) => {
        $("remote").srcObject = stream;
        $("remote-note").textContent = app.partnerMode === "audio" ? S.partnerAudioOnly : "";
      }),
      connection: mine(connectionChanged),
    },
  });
  app.link = link;
  saveCall({ restart });
}

async function onSignal(data) {
  if (!data || typeof data !== "object") return;
  const number = Number.isInteger(data.restart) && data.restart >= 0 ? data.restart : 0;
  const link = app.link;
  if (data.type === "offer" && !app.initiator && typeof data.sdp === "string") {
    if (number < link.restart) return;
    if (number > link.restart) newLink(number);
    if (app.link.pc.remoteDescription) app.link.send("answer"); // the same offer again: our answer was lost
    else await app.link.answerTo(data.sdp);
  } else if (data.type === "answer" && app.initiator && typeof data.sdp === "string") {
    if (number === link.restart) await link.takeAnswer(data.sdp);
  } else if (data.type === "restart" && app.initiator && Number.isInteger(data.restart)) {
    if (data.restart > link.restart) {
      newLink(data.restart);
      await app.link.offer();
    } else if (data.restart === link.restart && link.pc.localDescription) {
      link.send("offer");
    }
  }
}

function connectionChanged(state) {
  if (state === "connected") {
    setStatus("");
  } else if (state === "failed") {
    // A new connection to the same partner (docs/protocol.md, "Presence and rebuilding").
    const next = app.link.restart + 1;
    if (app.initiator) {
      newLink(next);
      app.link.offer().catch((error) => console.warn("offer:", error));
    } else {
      send({ type: "signal", session: app.session, data: { type: "restart", restart: next } });
    }
  }
}

function stateOpened() {
  sendOwnState();
  clearInterval(app.beatTimer);
  app.beatTimer = setInterval(() => app.link && app.link.sendState({ beat: ++app.beat }), 1000);
}

function sendOwnState() {
  // `ready`: this client has no check-in of its own (README, "In a browser"), so a desktop
  // partner's session goes on to focus without waiting two minutes for it.
  const state = { ready: true };
  if (app.mode === "video") state.camera = app.cameraOn;
  if (app.link) app.link.sendState(state);
}

function partnerState(message) {
  if (app.partnerMode !== "video") return;
  if (typeof message.camera === "boolean") document.body.dataset.partnerCamera = message.camera ? "on" : "off";
  // `screen` (docs/protocol.md): a desktop partner sends its screen in place of its camera.
  if (typeof message.screen === "boolean") document.body.dataset.partnerScreen = message.screen ? "on" : "off";
  if (typeof message.camera === "boolean" || typeof message.screen === "boolean") {
    const sharing = document.body.dataset.partnerScreen === "on";
    const off = document.body.dataset.partnerCamera === "off";
    $("remote-note").textContent = sharing ? S.partnerSharing : off ? S.partnerCameraOff : "";
  }
}

function endCall() {
  forgetCall();
  clearInterval(app.beatTimer);
  app.beatTimer = null;
  app.beat = 0;
  if (app.link) app.link.close();
  app.link = null;
  app.session = null;
  $("remote").srcObject = null;
  delete document.body.dataset.partnerCamera;
  delete document.body.dataset.partnerScreen;
}

function addChat(text, mine) {
  const line = document.createElement("li");
  line.className = mine ? "mine" : "theirs";
  const who = document.createElement("b");
  who.textContent = `${mine ? S.chatMe : S.chatPartner}: `;
  line.append(who, document.createTextNode(text));
  $("chat-lines").append(line);
  $("chat-empty").hidden = true;
  line.scrollIntoView({ block: "end" });
}

function renderControls() {
  $("mute").textContent = app.muted ? S.unmute : S.mute;
  $("mute").setAttribute("aria-pressed", String(app.muted));
  $("camera").textContent = app.cameraOn ? S.cameraOff : S.cameraOn;
  $("camera").setAttribute("aria-pressed", String(!app.cameraOn));
}

function wire() {
  $("find-form").addEventListener("submit", find);
  $("cancel").onclick = () => {
    send({ type: "cancel" });
    dropDevices();
    show("lobby");
  };
  $("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("chat-input").value.trim();
    if (text && app.link && app.link.sendChat(text)) {
      addChat(text, true);
      $("chat-input").value = "";
    }
  });
  $("mute").onclick = () => {
    app.muted = !app.muted;
    app.stream?.getAudioTracks().forEach((t) => { t.enabled = !app.muted; });
    renderControls();
  };
  $("camera").onclick = () => {
    // A disabled track still sends (black) frames, so the partner sees no stall.
    app.cameraOn = !app.cameraOn;
    app.stream?.getVideoTracks().forEach((t) => { t.enabled = app.cameraOn; });
    renderControls();
    sendOwnState();
  };
  $("next").onclick = () => {
    const session = app.session;
    endCall();
    send({ type: "skip", session });
    notice(null);
    showSearching();
  };
  $("end").onclick = () => {
    const session = app.session;
    endCall();
    send({ type: "leave", session });
    dropDevices();
    notice(null);
    show("lobby");
  };
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      if (radio.value === "audio" && radio.checked && app.stream) dropDevices();
      else previewIfAllowed();
    });
  }
  $("report").onclick = () => $("report-dialog").showModal();
  $("report-cancel").onclick = () => $("report-dialog").close();
  $("report-send").onclick = () => {
    $("report-dialog").close();
    const session = app.session;
    if (!session) return;
    endCall();
    send({ type: "report", session, reason: $("report-reason").value });
    dropDevices();
    show("lobby");
  };
}

// For tests and bench/web_call.py: what the page shows and what its connection carries.
window.studymatch = {
  screen: () => document.body.dataset.screen,
  session: () => app.session,
  stats: () => (app.link ? app.link.videoStats() : Promise.resolve(null)),
};

label();
wire();
show("lobby");
$("preview-note").textContent = S.previewIdle;
if (savedCall()) {
  setStatus(S.resuming); // a reload in a call: the server keeps our place for a minute
  connect().catch(() => {});
} else {
  previewIfAllowed();
}
