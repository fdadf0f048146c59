"""Binary format of core WebAssembly modules: reader, instruction table, types, syntax, decoder."""
