/*
 * session.js - this tab's half of the browser session.
 *
 * A browser session has two parts: the HttpOnly cookie of this port, and a
 * secret the page holds and sends in SECRET_HEADER on every call (the
 * server accepts neither alone: cookies reach every port of 127.0.0.1). The
 * login redirect brings the secret in the URL fragment, which never goes to
 * a server; the page keeps it in this tab's sessionStorage (so a reload
 * stays signed in) and takes it out of the address bar at once. A new tab
 * asks the open tabs of this console for it over a BroadcastChannel (same
 * origin only: a page on another port cannot listen); with none open it
 * shows how to get a new login link. A new login hands its secret to every
 * tab (it replaced the cookie they share); a logout signs every tab out.
 */

export const SECRET_HEADER = "X-TMI-Secret";
const SECRET_KEY = "tmi-console.secret";
const CHANNEL = "tmi-console.session";
const PEER_WAIT_MS = 800;

const isSecret = (v) => typeof v === "string" && /^[0-9a-f]{64}$/.test(v);

let secret = null;

/* The secret the login redirect put in the fragment ("#secret=..."), taken
 * out of the address bar and the history entry when this module loads,
 * before anything else can see or keep the URL. */
export const loginSecret = (() => {
  const m = /^#secret=([0-9a-f]{64})$/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return m[1];
})();

export function currentSecret() {
  return secret;
}

export function storedSecret() {
  try {
    const v = sessionStorage.getItem(SECRET_KEY);
    return isSecret(v) ? v : null;
  } catch (e) {
    return null; // storage disabled: this tab signs in through the channel only
  }
}

export function keepSecret(v) {
  secret = v;
  try {
    sessionStorage.setItem(SECRET_KEY, v);
  } catch (e) {
    // kept in memory only
  }
}

export function forgetSecret() {
  secret = null;
  try {
    sessionStorage.removeItem(SECRET_KEY);
  } catch (e) {
    // nothing kept
  }
}

let channel = null;
let asking = null; // {nonce, resolve} while this tab asks its peers
const handlers = { login: () => {}, logout: () => {}, signedIn: () => false };

function post(msg) {
  if (channel) channel.postMessage(msg);
}

/*
 * Join the channel of this console's tabs. h.signedIn() says whether this
 * tab may hand its secret to a new one; h.login(secret) runs when a new
 * login in another tab brought a new secret (already kept); h.logout() when
 * another tab logged out.
 */
export function openChannel(h) {
  Object.assign(handlers, h);
  if (typeof BroadcastChannel !== "function") return;
  channel = new BroadcastChannel(CHANNEL);
  channel.addEventListener("message", (ev) => {
    const m = ev.data || {};
    if (m.type === "ask" && secret && handlers.signedIn()) {
      post({ type: "answer", to: m.nonce, secret: secret });
    } else if (m.type === "answer" && asking && m.to === asking.nonce && isSecret(m.secret)) {
      asking.resolve(m.secret);
    } else if (m.type === "login" && isSecret(m.secret)) {
      keepSecret(m.secret);
      handlers.login(m.secret);
    } else if (m.type === "logout") {
      forgetSecret();
      handlers.logout();
    }
  });
}

/* Tell the other tabs: a new login (its secret), or a logout. */
export function announceLogin(v) {
  post({ type: "login", secret: v });
}

export function announceLogout() {
  post({ type: "logout" });
}

/* Ask the open tabs of this console for the secret; null when none answers
 * within PEER_WAIT_MS. */
export function askPeers() {
  if (!channel) return Promise.resolve(null);
  const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
  return new Promise((resolve) => {
    let timer = null;
    const done = (v) => {
      if (!asking || asking.nonce !== nonce) return;
      asking = null;
      clearTimeout(timer);
      resolve(v);
    };
    timer = setTimeout(() => done(null), PEER_WAIT_MS);
    asking = { nonce: nonce, resolve: done };
    post({ type: "ask", nonce: nonce });
  });
}
