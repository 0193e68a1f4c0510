"""The SimPy reference model (readable processes, one per event kind)."""

from sim.model.model import EVENT_LOG_COLUMNS, Model, Priority, run_replication

__all__ = ["EVENT_LOG_COLUMNS", "Model", "Priority", "run_replication"]
