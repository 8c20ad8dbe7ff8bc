"""The WSGI entry point: ``gunicorn wsgi:app``."""
import gc

from portal import create_app

app = create_app()
# What start-up made lives as long as the worker: take it out of the cyclic garbage collector's full
# collections, which the tens of thousands of short-lived objects of each PDF verification set off, so
# that they no longer walk the whole application each time (see README, «Verification: speed and limits»).
gc.freeze()
