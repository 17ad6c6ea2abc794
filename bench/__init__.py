"""`make bench`: every bench/bench_*.py module measures a figure beside a baseline run in the same process."""
