"""audiencecli: who may be contacted, on which channel, for a campaign, and why."""
import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) hands freed memory back to the system after 0.5 s by default; a
# build frees and takes gigabytes stage after stage, and every page handed back is faulted in
# again by the next stage. Keeping freed pages 1.5 s: 1M customers 7.06 -> 6.57 s (+0.13 GB peak),
# 10M 68.6 -> 65.9 s (8.8 -> 9.25 GB peak; bench/README.md). Its background thread hands them
# back, not the threads that work: 1M 6.00 -> 5.88 s (medians of 6 interleaved runs), 10M the
# same. Read when Polars is first imported, so set here, before any module imports it; a value
# the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1500,muzzy_decay_ms:1500,background_thread:true")
