"""Benchmarks: each ``bench_*.py`` module has a ``main()`` that times our path beside a baseline in the same run."""
