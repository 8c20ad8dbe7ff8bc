"""The portal's speed-ups of pyHanko internals (portal.signing.pyhanko_speedups) on the portal's own
agreement PDF — tagged, sealed, signed by every signatory and closed at B-LTA: the same report and the
same object paths for the difference analysis as pyHanko's own code, on the good file and a changed one."""
from __future__ import annotations

import pytest

from portal.agreements.signing import signing_setup

from . import factories
from .signing.support import page_rotated_after_signing
from .signing.test_pyhanko_speedups import both_ways, object_paths


@pytest.fixture
def signed_pdf(people) -> bytes:
    return factories.signed_agreement(people).document.signed_pdf


@pytest.mark.parametrize("changed", [False, True])
def test_the_agreement_verifies_the_same_with_and_without_the_speedups(signed_pdf, changed) -> None:
    pdf = page_rotated_after_signing(signed_pdf) if changed else signed_pdf
    sped_up, plain = both_ways(pdf, signing_setup())
    assert sped_up == plain
    assert sped_up["verdict"] == ("altered" if changed else "valid")


def test_the_paths_to_every_object_of_the_tagged_agreement_are_pyhankos(signed_pdf) -> None:
    from portal.signing import pyhanko_speedups

    pdf = page_rotated_after_signing(signed_pdf)
    sped_up = object_paths(pdf)
    with pyhanko_speedups.unpatched():
        plain = object_paths(pdf)
    assert sped_up == plain
    assert all(len(paths) > 150 for paths in sped_up)  # the structure tree's elements among them
