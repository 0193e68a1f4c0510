"""Monte Carlo replications in chunks, serial or across processes."""

from sim.runner.runner import Chunk, chunk_files, chunks, read_chunks, run_chunk, run_replications

__all__ = ["Chunk", "chunk_files", "chunks", "read_chunks", "run_chunk", "run_replications"]
