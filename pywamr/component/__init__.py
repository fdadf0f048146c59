"""WebAssembly components: decoder, validation, instantiation plan, canonical ABI, bindings.

Sits above `engine` (it drives core modules only through the engine interface) and below
`wasi` and `cli`."""
