"""The portal as gunicorn serves it, plus a bare Flask endpoint (``/bench/bare``) on the same app and server:
the yardstick of ``tests.bench.bench_pages``. Settings come from the environment (DATABASE_URL...)."""
from portal import create_app

app = create_app()


@app.get("/bench/bare")
def bare() -> str:
    return "ok"
