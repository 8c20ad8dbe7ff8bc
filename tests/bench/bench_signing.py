"""Benchmark of the signing layer: `.venv/bin/python -m tests.bench.bench_signing [--runs N] [--wall]`.

Prints the median CPU time (``--wall``: wall time) of one approval signature (visible stamp with embedded
font, signature time-stamp from the loopback TSA, validation data), of closing with B-LTA, and of
verifying a fully signed agreement; and, in the same run, of plain pyHanko (``signers.sign_pdf`` with a
``SimpleSigner.load_pkcs12`` of the same key type, ECDSA P-256) signing a one-page PDF, with the ratios.
The scene is tests/bench/signing_bench.py's.
"""
from __future__ import annotations

from portal.signing import keys, pades
from portal.signing.verify import verify_pdf
from tests.bench.signing_bench import print_results, signing_scene
from tests.signing.support import CHIEF_FIELD, MAYOR_FIELDS

ONE = "one signature (stamp, time-stamp over HTTP)"
ONE_B_B = "  same, no time-stamp service (B-B)"
PLAIN = "plain pyHanko sign_pdf, SimpleSigner (PKCS#12, ECDSA P-256)"
SAME_CALL = "same call, our LoadedKeySigner + reserved size"


def main() -> None:
    with signing_scene(__doc__) as scene:
        pki, timestamper, sealed, stamp = scene.pki, scene.timestamper, scene.sealed, scene.stamp
        mayor = keys.PortalIssuedKey(keys.PortalIssuedKey.enrol(pki, scene.identity, "hemmeleg"), "hemmeleg", pki.chain).signer()
        signing_vc = pades.demo_validation_context(pki)

        def one_signature() -> bytes:
            # As the portal signs: stamp, signature time-stamp; the validation data comes at closing.
            return pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, timestamper)

        signed = one_signature()
        signed = pades.sign_field(signed, MAYOR_FIELDS[1], mayor, stamp, timestamper)
        signed = pades.sign_field(signed, CHIEF_FIELD, mayor, stamp, timestamper)
        closed = pades.close_lta(signed, pades.demo_validation_context(pki), timestamper)

        plain_signer, key = scene.plain_signer()
        loaded = keys.LoadedKeySigner(key, plain_signer.signing_cert, [])
        results = scene.medians({
            ONE: one_signature,
            ONE_B_B: lambda: pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, None),
            "  same, with validation data (DSS update)": (
                lambda: pades.sign_field(sealed, MAYOR_FIELDS[0], mayor, stamp, timestamper, validation_context=signing_vc)),
            "closing with B-LTA (DSS + document time-stamp)": (
                lambda: pades.close_lta(signed, pades.demo_validation_context(pki), timestamper)),
            "verifying a fully signed agreement": lambda: verify_pdf(closed, pki.trust_roots),
            PLAIN: lambda: scene.plain_sign(scene.one_page, "Signature1", plain_signer),
            SAME_CALL: lambda: scene.plain_sign(scene.one_page, "Signature1", loaded, reserve=8192),
        })
    print_results(scene, results, {
        "ratio one signature / plain pyHanko": (results[ONE], results[PLAIN]),
        "ratio one signature, B-B / plain pyHanko": (results[ONE_B_B], results[PLAIN]),
        "ratio our signer / plain pyHanko (same call)": (results[SAME_CALL], results[PLAIN]),
    })


if __name__ == "__main__":
    main()
