"""The WSGI entry point: ``gunicorn wsgi:app``."""
import gc

from portal import create_app

app = create_app()
# What start-up made (modules, the app, its routes and catalogues) lives as long as the worker: take it out
# of the cyclic garbage collector's full collections, which otherwise walk all of it again every few requests
# of a list page and after each PDF verification's tens of thousands of short-lived objects
# (see README, «Verification: speed and limits» and «Benchmarks»).
gc.freeze()
