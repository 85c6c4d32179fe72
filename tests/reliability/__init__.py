"""Reliability runs against a real ``rag serve`` on 127.0.0.1: schema fuzzing and a bounded concurrent load.

Each module is a script with a full-size default (``python -m tests.reliability.fuzz``) that writes its result to
``tests/reliability/results/``; the integration tests run the same code at a CI size. See docs/reliability.md.
"""
