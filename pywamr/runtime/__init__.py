"""The runtime layer: what both engines share and what sits between them and the API.

- objects.py, tables.py: functions, memories, tables (with their `ElementStore`) and globals,
  with explicit storage that both engines and Python read and write;
- interface.py: `CompiledModule`, the protocol every engine's compiled module implements;
- instantiate.py: the single instantiation driver (imports, allocation, segments, start);
- host.py: host function definitions and their context (`Caller`);
- numerics.py, trapping.py: value representation and the mapping of failures to traps.
"""
