"""Timing results and camera clocks: the rules (rules) and the results file (results_file); their
items are pipeline.store.timing, the search by time pipeline.search.by_time."""
