"""audiencecli: who may be contacted, on which channel, for a campaign, and why."""
import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) hands freed memory back to the system after 0.5 s by default; a
# build frees and takes gigabytes stage after stage, and every page handed back is faulted in
# again by the next stage. Freed pages are kept 5 s, then handed back at once (muzzy 0: not
# first marked lazily free, which kept them counted in the peak): 1M customers 5.84 -> 5.56 s
# (+0.07 GB peak; medians of 5 interleaved runs against 1.5 s), 10M Parquet 56 -> 53.6 s
# (7.9 -> 7.9 GB, two runs each), 10M CSV 72.4 -> 67.4 s (8.0 -> 8.1 GB). A longer wait gave
# little more for up to 1 GB more peak. Its background thread hands them back, not the threads
# that work. Read when Polars is first imported, so set here, before any module imports it; a
# value the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:0,background_thread:true")
