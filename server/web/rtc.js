// One peer connection to one partner, as docs/protocol.md ("Between the two clients") says:
// complete SDP (no trickle ICE: the desktop's aiortc has none), the initiator opens the `chat`
// and `state` channels, `restart` numbers on the offers and answers of a rebuilt connection.

const GATHER_LIMIT_MS = 5000; // a STUN/TURN server that never answers must not hold the offer forever

export class PeerLink {
  constructor({ iceServers, stream, initiator, restart, mode, events }) {
    this.initiator = initiator;
    this.restart = restart; // 0: the first connection, no `restart` field on the wire
    this.events = events; // {signal, chat, state, stateOpen, track, connection}
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    this.chat = null;
    this.state = null;
    this.closed = false;
    for (const track of stream ? stream.getTracks() : []) {
      if (track.kind === "video") {
        // Without transport-wide congestion control (aiortc has none) Chromium's estimate
        // halves the picture for a desktop partner; a study partner's page or face needs detail.
        track.contentHint = "detail";
      }
      this.pc.addTrack(track, stream);
    }
    if (initiator) {
      // Without a microphone (or camera) the offer still asks to receive the partner's.
      const sent = new Set((stream ? stream.getTracks() : []).map((t) => t.kind));
      for (const kind of mode === "video" ? ["audio", "video"] : ["audio"]) {
        if (!sent.has(kind)) this.pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
    this.pc.ontrack = (e) => this.events.track(e.streams[0] || new MediaStream([e.track]), e.track);
    this.pc.onconnectionstatechange = () => this.events.connection(this.pc.connectionState);
    this.pc.ondatachannel = (e) => this.adopt(e.channel);
    if (initiator) {
      this.adopt(this.pc.createDataChannel("chat"));
      this.adopt(this.pc.createDataChannel("state"));
    }
  }

  adopt(channel) {
    if (channel.label === "chat") {
      this.chat = channel;
      channel.onmessage = (e) => typeof e.data === "string" && this.events.chat(e.data.slice(0, 2000));
    } else if (channel.label === "state") {
      this.state = channel;
      channel.onopen = () => this.events.stateOpen();
      channel.onmessage = (e) => {
        if (typeof e.data !== "string" || e.data.length > 2048) return;
        let message;
        try {
          message = JSON.parse(e.data);
        } catch {
          return;
        }
        if (message && typeof message === "object" && !Array.isArray(message)) this.events.state(message);
      };
      if (channel.readyState === "open") this.events.stateOpen();
    }
  }

  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.gathered();
    this.send("offer");
  }

  async answerTo(sdp) {
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    await this.keepResolution();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.gathered();
    this.send("answer");
  }

  async takeAnswer(sdp) {
    if (this.pc.signalingState !== "have-local-offer") return; // a repeated answer
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    await this.keepResolution();
  }

  send(type) {
    if (this.closed) return;
    const data = { type, sdp: this.pc.localDescription.sdp };
    if (this.restart > 0) data.restart = this.restart;
    this.events.signal(data);
  }

  // Lower the frame rate before the resolution when the estimate is low (it is, to aiortc).
  async keepResolution() {
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind !== "video") continue;
      const parameters = sender.getParameters();
      parameters.degradationPreference = "maintain-resolution";
      try {
        await sender.setParameters(parameters);
      } catch (error) {
        console.warn("degradationPreference not applied:", error);
      }
    }
  }

  gathered() {
    if (this.pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (this.pc.iceGatheringState !== "complete") return;
        this.pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      };
      this.pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, GATHER_LIMIT_MS);
    });
  }

  sendChat(text) {
    if (!this.chat || this.chat.readyState !== "open") return false;
    this.chat.send(text);
    return true;
  }

  sendState(message) {
    if (!this.state || this.state.readyState !== "open") return false;
    this.state.send(JSON.stringify(message));
    return true;
  }

  // What came in and went out, for the quality floor tests and bench/web_call.py.
  async videoStats() {
    const out = { inbound: null, outbound: null, received: 0, sent: 0 };
    const report = await this.pc.getStats();
    report.forEach((s) => {
      if (s.type === "transport") {
        out.received += s.bytesReceived || 0; // everything: video, audio, channels, as aiortc counts it
        out.sent += s.bytesSent || 0;
      } else if (s.type === "inbound-rtp" && s.kind === "video") {
        out.inbound = { width: s.frameWidth || 0, height: s.frameHeight || 0, fps: s.framesPerSecond || 0,
          bytes: s.bytesReceived, frames: s.framesDecoded || 0 };
      } else if (s.type === "outbound-rtp" && s.kind === "video") {
        out.outbound = { width: s.frameWidth || 0, height: s.frameHeight || 0, fps: s.framesPerSecond || 0,
          bytes: s.bytesSent, limitation: s.qualityLimitationReason || "" };
      }
    });
    return out;
  }

  close() {
    this.closed = true;
    this.pc.close();
  }
}
