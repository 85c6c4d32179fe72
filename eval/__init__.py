"""Evaluation: pure metric functions and the harness that wires data, pipeline and metrics."""
