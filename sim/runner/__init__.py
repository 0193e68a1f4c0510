"""Monte Carlo replications in chunks, serial or across processes."""

from sim.runner.runner import Chunk, chunks, run_chunk, run_replications

__all__ = ["Chunk", "chunks", "run_chunk", "run_replications"]
