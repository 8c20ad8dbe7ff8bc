// Signing with a key that never leaves this browser (see portal/agreements/browser_sign_views.py).
//
// The first time, the browser makes a non-extractable ECDSA P-256 key with WebCrypto, keeps the CryptoKey
// in IndexedDB, and sends only the public key and its signature over the server's challenge; the portal's
// CA answers with a certificate. To sign, the server prepares the document and sends the CMS signed
// attributes; the browser signs them with crypto.subtle.sign (raw r||s) and sends that signature back.
// If another signature came first, the server answers "again" with a new revision to sign.
"use strict";

(() => {
  const form = document.querySelector("form[data-browser-signing]");
  if (!form) return;
  const status = document.getElementById("browser-signing-status");
  const problem = document.getElementById("browser-signing-error");
  const sources = form.querySelectorAll("input[name=key_source]");
  const csrf = form.querySelector("input[name=csrf_token]").value;
  const ECDSA = { name: "ECDSA", namedCurve: "P-256" };
  const SIGN = { name: "ECDSA", hash: "SHA-256" };
  const MAX_TRIES = 5;

  // Show only the fields of the chosen way to sign.
  const chosen = () => form.querySelector("input[name=key_source]:checked")?.value;
  const showFields = () => {
    for (const group of form.querySelectorAll("[data-for-sources]")) {
      group.hidden = !group.dataset.forSources.split(" ").includes(chosen());
    }
  };
  for (const input of sources) input.addEventListener("change", showFields);
  showFields();

  const toBase64 = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)));
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

  // IndexedDB: one record per person signed in on this browser, holding the CryptoKey pair and certificate.
  const database = () => new Promise((resolve, reject) => {
    const request = indexedDB.open("politirad-signing", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("keys");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const stored = async (action, ...args) => {
    const db = await database();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction("keys", action === "get" ? "readonly" : "readwrite");
      const request = transaction.objectStore("keys")[action](...args);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  };

  const post = async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 403 && answer.status === "step_up") {  // the proof at the identity provider is too old
      window.location.assign(answer.location || window.location.href);  // prove it again, then back to this page
      throw new SteppingUp();
    }
    return { ok: response.ok, status: response.status, answer };
  };

  const say = (text) => { status.textContent = text; };
  const fail = (text) => {
    status.textContent = "";
    problem.textContent = text || form.dataset.messageFailed;
    problem.focus();
  };
  class Refused extends Error {}
  class SteppingUp extends Error {}

  async function enrol() {
    say(form.dataset.messageEnrolling);
    const keys = await crypto.subtle.generateKey(ECDSA, false, ["sign", "verify"]);
    const challenge = await post(form.dataset.challengeUrl);
    if (!challenge.ok) throw new Refused(challenge.answer.message);
    const proof = await crypto.subtle.sign(SIGN, keys.privateKey, new TextEncoder().encode(challenge.answer.challenge));
    const publicKey = await crypto.subtle.exportKey("spki", keys.publicKey);
    const enrolled = await post(form.dataset.enrolUrl, { public_key: toBase64(publicKey), proof: toBase64(proof) });
    if (!enrolled.ok) throw new Refused(enrolled.answer.message);
    const record = { privateKey: keys.privateKey, publicKey: keys.publicKey, certificateId: enrolled.answer.certificate_id, certificate: enrolled.answer.certificate };
    await stored("put", record, form.dataset.keyName);
    return record;
  }

  async function signInBrowser() {
    let record = await stored("get", form.dataset.keyName);
    if (!record) record = await enrol();
    say(form.dataset.messagePreparing);
    let step = await post(form.dataset.prepareUrl, { certificate_id: record.certificateId });
    if (step.status === 409 && step.answer.status === "enrol") {  // revoked or expired: this browser enrols again
      record = await enrol();
      step = await post(form.dataset.prepareUrl, { certificate_id: record.certificateId });
    }
    for (let attempt = 0; attempt < MAX_TRIES; attempt += 1) {
      if (!step.ok) throw new Refused(step.answer.message);
      if (step.answer.status === "signed") {
        window.location.assign(step.answer.location);
        return;
      }
      const signing = form.dataset.messageSigning.replace("{hash}", step.answer.document_sha256);
      say(step.answer.status === "again" ? `${form.dataset.messageAgain} ${signing}` : signing);
      const signature = await crypto.subtle.sign(SIGN, record.privateKey, fromBase64(step.answer.to_be_signed));
      step = await post(form.dataset.finishUrl, { pending: step.answer.pending, signature: toBase64(signature) });
    }
    throw new Refused();
  }

  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    if (chosen() !== "browser") return;  // the other ways to sign post the form as it is
    event.preventDefault();
    problem.textContent = "";
    if (!window.crypto?.subtle || !window.indexedDB) {
      fail(form.dataset.messageUnsupported);
      return;
    }
    button.disabled = true;
    try {
      await signInBrowser();
    } catch (error) {
      if (error instanceof SteppingUp) return;  // leaving the page
      fail(error instanceof Refused ? error.message : "");
      button.disabled = false;
    }
  });
})();
