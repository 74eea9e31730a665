"""audiencecli: who may be contacted, on which channel, for a campaign, and why."""
import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) hands freed memory back to the system after 0.5 s by default; a
# build frees and takes gigabytes stage after stage, and every page handed back is faulted in
# again by the next stage. Freed pages are kept 20 s, then handed back at once (muzzy 0: not
# first marked lazily free, which kept them counted in the peak); each longer decay measured
# faster than the one before, never handing them back slower and bigger (bench/RESULTS.md,
# "The allocator's decay"). Its background thread hands them back, not the threads that work. Read when Polars is first imported, so set here,
# before any module imports it; a value the user set is kept.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:20000,muzzy_decay_ms:0,background_thread:true")
