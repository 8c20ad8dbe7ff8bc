"""Digital signatures for agreements: the demo PKI and its services, key sources, PAdES signing and
verification. Service layer only: no Flask views (the routes of :mod:`.services` excepted)."""

from . import asn1_lengths, pyhanko_speedups

# Before any signature is made in this process: asn1crypto would otherwise re-encode, at great cost, any CMS
# part whose length happens to end in the byte 0x80 (see the module).
asn1_lengths.apply()
pyhanko_speedups.install()  # faster hex strings, name comparisons and difference analysis, same results (see the module)
