"""The WSGI entry point: ``gunicorn wsgi:app``."""
import gc

from portal import create_app

app = create_app()
# What start-up made (modules, the app, its routes and catalogues) lives as long as the process: take it out
# of the garbage collector's full passes, which otherwise walk all of it again every few requests of a
# list page (about a sixth of the agreement list's time, measured).
gc.freeze()
