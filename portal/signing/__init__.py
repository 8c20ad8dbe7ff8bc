"""Digital signatures for agreements: the demo PKI and its services, key sources, PAdES signing and
verification. Service layer only: no Flask views (the routes of :mod:`.services` excepted)."""


from . import pyhanko_speedups

pyhanko_speedups.install()  # faster hex strings and name preparation, same results (see the module)
