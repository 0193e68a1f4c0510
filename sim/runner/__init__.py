"""Monte Carlo replications in chunks, serial or across processes."""

from sim.runner.runner import Chunk, Stamp, chunk_files, chunks, read_chunks, run_chunk, run_replications

__all__ = ["Chunk", "Stamp", "chunk_files", "chunks", "read_chunks", "run_chunk", "run_replications"]
