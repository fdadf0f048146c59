"""Runtime objects shared by both engines: values, numerics, memories, tables, globals, store."""
