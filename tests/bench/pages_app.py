"""The portal as gunicorn serves it (``wsgi.app``), plus a bare Flask endpoint (``/bench/bare``) on the same
app and server: the yardstick of ``tests.bench.bench_pages``. Settings come from the environment
(DATABASE_URL...)."""
from wsgi import app


@app.get("/bench/bare")
def bare() -> str:
    return "ok"
