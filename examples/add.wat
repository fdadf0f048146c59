;; Small pure-compute module with no imports.
;;   pywamr run --invoke add examples/add.wasm 2 3        -> 5
;;   pywamr run --invoke fib examples/add.wasm 20         -> 6765
;;   pywamr run --invoke mul_f64 examples/add.wasm 1.5 4  -> 6.0
(module
  (func $add (export "add") (param $a i32) (param $b i32) (result i32)
    local.get $a
    local.get $b
    i32.add)

  ;; fib(0) = 0, fib(1) = 1, fib(n) = fib(n-1) + fib(n-2), computed recursively.
  (func $fib (export "fib") (param $n i32) (result i64)
    local.get $n
    i32.const 2
    i32.lt_s
    if (result i64)
      local.get $n
      i64.extend_i32_s
    else
      local.get $n
      i32.const 1
      i32.sub
      call $fib
      local.get $n
      i32.const 2
      i32.sub
      call $fib
      i64.add
    end)

  (func $mul_f64 (export "mul_f64") (param $x f64) (param $y f64) (result f64)
    local.get $x
    local.get $y
    f64.mul))
