"""A real linli server for the HTTP benchmarks (bench_intake): linli's own settings and
URLs plus one bare view, served by gunicorn against a database of the bench's own."""
