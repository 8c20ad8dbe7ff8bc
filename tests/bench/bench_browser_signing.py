"""Benchmark of a signature made with a key outside the server (a browser's WebCrypto key):
`.venv/bin/python -m tests.bench.bench_browser_signing [--runs N] [--wall]`.

Prints the median CPU time (``--wall``: wall time) of the server's two steps, prepare (the incremental
update with the stamp, the /ByteRange digest, the CMS signed attributes) and finish (check the signature,
build the SignedData with the signature time-stamp from the loopback TSA, put it in place), their sum,
and, in the same run, plain pyHanko (``signers.sign_pdf`` with a ``SimpleSigner`` of the same key type,
ECDSA P-256) signing the same field of the same sealed page, with and without that time-stamp; then the
ratios. The key's own signature (in the browser, here a software stand-in) is not the server's time and
is not counted. Prepare is timed as for the second signatory onwards (this process parsed the agreement's
seal before: ``pades.certifications``) and as the first. The scene is tests/bench/signing_bench.py's. CPU time counts the loopback TSA's thread
too (it runs in this process), for the portal and plain pyHanko alike.
"""
from __future__ import annotations

from cryptography.hazmat.primitives import serialization

from portal.signing import browser_keys, interrupted, pades
from portal.signing.pki import to_asn1
from tests.bench.signing_bench import print_results, signing_scene
from tests.signing.support import MAYOR_FIELDS

PREPARE = "server: prepare (update, stamp, digest, signed attributes)"
PREPARE_COLD = "  prepare, the first on this agreement in the process"
FINISH = "server: finish (check, SignedData, signature time-stamp)"
PLAIN_TS = "plain pyHanko sign_pdf, same field, with the time-stamp"
PLAIN = "plain pyHanko sign_pdf, same field, no time-stamp"


def main() -> None:
    with signing_scene(__doc__) as scene:
        pki, field = scene.pki, MAYOR_FIELDS[0]
        device = browser_keys.SoftwareDevice()
        public_key = serialization.load_der_public_key(device.public_key_der)
        certificate = to_asn1(pki.issue_signing_certificate(scene.identity, public_key))  # type: ignore[arg-type]

        def prepare() -> interrupted.PreparedSignature:
            return interrupted.prepare_field(scene.sealed, field, certificate, pki.chain, scene.stamp, with_timestamp=True)

        prepared = prepare()
        signature = browser_keys.der_from_raw(device.sign(prepared.to_be_signed))
        plain_signer, _key = scene.plain_signer()
        results = scene.medians({
            PREPARE: prepare,
            PREPARE_COLD: prepare,
            FINISH: lambda: interrupted.finish_field(prepared, certificate, pki.chain, signature, scene.timestamper),
            PLAIN_TS: lambda: scene.plain_sign(scene.sealed, field, plain_signer, timestamper=scene.timestamper, existing_fields_only=True),
            PLAIN: lambda: scene.plain_sign(scene.sealed, field, plain_signer, existing_fields_only=True),
        }, before={PREPARE_COLD: pades.certifications.clear})  # as if no preparation had parsed this seal before
    total, cold = results[PREPARE] + results[FINISH], results[PREPARE_COLD] + results[FINISH]
    results["server: prepare + finish"] = total
    results["  prepare + finish, the first on this agreement"] = cold
    print_results(scene, results, {
        "ratio prepare + finish / plain pyHanko with the time-stamp": (total, results[PLAIN_TS]),
        "  the same, the first on this agreement": (cold, results[PLAIN_TS]),
        "ratio prepare + finish / plain pyHanko, no time-stamp": (total, results[PLAIN]),
    })


if __name__ == "__main__":
    main()
