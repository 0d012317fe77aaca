/*
 * signature.js - a file's Authenticode signature as the scan reports it
 * ("signature" of each file): a badge with the signer, red when the
 * signature is invalid, and the details (subject, issuer, thumbprints,
 * signing time, root, the reason) in a <details> element, which opens on a
 * click and from the keyboard (Enter or Space on its summary).
 */

import { badge, el, timeEl } from "./lib.js";

// Why a signature is invalid, in words; any other reason shows as its name.
const REASON_TEXT = {
  malformed: "malformed signature",
  digest_mismatch: "file changed after signing",
  bad_signature: "signature does not verify",
  untrusted_root: "untrusted root",
  expired: "certificate expired",
  wrong_key_usage: "not a code-signing certificate",
  bad_timestamp: "bad timestamp",
  unsupported_algorithm: "weak or unknown algorithm",
  revoked: "certificate revoked",
  bad_chain: "bad certificate chain",
};

export function reasonText(reason) {
  return REASON_TEXT[reason] || String(reason || "invalid");
}

/* The badge alone: kind (for its colour) and text. */
export function sigBadgeParts(sig) {
  if (!sig) return { kind: "unknown", text: "not checked" };
  const who = sig.signer && (sig.signer.organization || sig.signer.common_name);
  if (sig.status === "valid") return { kind: "ok", text: "Signed: " + (who || "unknown signer") };
  if (sig.status === "unsigned") return { kind: "unknown", text: "Unsigned" };
  return {
    kind: "invalid",
    text: "Invalid: " + reasonText(sig.reason) + (who ? " (" + who + ")" : ""),
  };
}

function row(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return [el("dt", null, label), el("dd", null, value)];
}

function code(text) {
  return text ? el("code", { class: "sig-thumb" }, text) : null;
}

/*
 * A <details> with the badge as its summary and the signature's fields
 * inside; name labels it for screen readers ("mrf.exe signature").
 */
export function sigDetails(sig, name) {
  const p = sigBadgeParts(sig);
  const summary = el(
    "summary",
    { "aria-label": (name ? name + " signature: " : "Signature: ") + p.text },
    badge(p.kind, p.text),
  );
  if (!sig || sig.status === "unsigned")
    return el(
      "details",
      { class: "sig" },
      summary,
      el("p", { class: "muted" }, sig ? "The file carries no signature." : "Not read."),
    );
  const s = sig.signer || {};
  return el(
    "details",
    { class: "sig sig-" + sig.status },
    summary,
    el(
      "dl",
      { class: "sig-fields" },
      sig.status === "invalid" ? row("Why", sig.detail || reasonText(sig.reason)) : null,
      row("Organization", s.organization),
      row("Common name", s.common_name),
      row("Subject", s.subject),
      row("Issuer", s.issuer),
      row("Root", sig.root),
      row("Thumbprint (SHA-256)", code(s.thumbprint_sha256)),
      row("Thumbprint (SHA-1)", code(s.thumbprint_sha1)),
      row("Valid", s.not_before ? [timeEl(s.not_before), " to ", timeEl(s.not_after)] : null),
      row(
        "Signed",
        sig.signing_time
          ? [
              timeEl(sig.signing_time),
              sig.timestamp ? " (" + sig.timestamp + " timestamp)" : "",
              sig.valid_by_timestamp ? ", valid through its timestamp only" : "",
            ]
          : "no trusted timestamp",
      ),
      row(
        "Digest",
        sig.digest_algorithm
          ? sig.digest_algorithm +
              (sig.digest_cached
                ? ", kept from an earlier scan of the same bytes"
                : ", computed from the file")
          : null,
      ),
      row("Source", sig.source),
    ),
  );
}
