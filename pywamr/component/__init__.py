"""WebAssembly components: decoder, validation, instantiation plan, canonical ABI, bindings.

Sits above `engine` (it drives core modules only through the engine interface) and below
`wasi` and `cli`. The pipeline: `binary` (decode) -> `validate` (resolved types) -> `plan`
(flat instantiation steps, nested components inlined) -> `instance` (run the plan on an
engine, typed exports) with `abi` (the canonical ABI) and `values` (Python values).

    from pywamr import Engine
    from pywamr.component import Component, Linker
    engine = Engine("interp")
    component = Component.from_file(engine, "adder.wasm")
    instance = Linker(engine).instantiate(component)
    instance.exports.docs.adder.add.add(40, 2)
"""
from .linker import Component, Linker, write_bundle
from .instance import ResourceObject, TypedFunc
from .values import ComponentError, Err, Ok, Some

__all__ = ["Component", "Linker", "ResourceObject", "TypedFunc", "ComponentError", "Err", "Ok",
           "Some", "write_bundle"]
