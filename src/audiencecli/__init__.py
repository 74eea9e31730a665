"""audiencecli: who may be contacted, on which channel, for a campaign, and why."""
import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) hands freed memory back to the system after 0.5 s by default; a
# build frees and takes gigabytes stage after stage, and every page handed back is faulted in
# again by the next stage. Freed pages are kept 20 s, then handed back at once (muzzy 0: not
# first marked lazily free, which kept them counted in the peak). 5 s against 0.5 s: 1M
# customers 5.84 -> 5.56 s (+0.07 GB peak; medians of 5 interleaved runs), 10M Parquet 56 ->
# 53.6 s, 10M CSV 72.4 -> 67.4 s (8.0 -> 8.1 GB). 10 s against 5 s, 3 interleaved 10M Parquet
# runs: 49.4 -> 48.2 s (medians; 5.5M -> 4.4M page faults; peak 7.7 -> 7.9-8.3 GB); CSV 65.9,
# 64.9 -> 63.7, 65.0 s (8.3 -> 8.5 GB). 20 s against 10 s, 5 alternated 10M Parquet pairs:
# 42.4 -> 41.6 s, CPU 78.2 -> 75.8 s (medians; 4.6M -> 4.0M page faults; peak 8.1-8.6 ->
# 8.55-8.8 GB). Never handing them back was slower (51-53 s, 9.9 GB). Its background thread
# hands them back, not the threads that work. Read when Polars is first imported, so set here,
# before any module imports it; a value the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:20000,muzzy_decay_ms:0,background_thread:true")
