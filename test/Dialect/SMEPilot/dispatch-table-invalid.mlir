// RUN: smepilot-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{dispatch 0: 'kernel' must index the kernels}}
smepilot.dispatch_table @t {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64>, deps = array<i64>}]}

// -----

// expected-error @+1 {{dispatch 1: dependency 1 is not an earlier dispatch}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64>, deps = array<i64>},
                {kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64>, deps = array<i64: 1>}]}

// -----

// expected-error @+1 {{dispatch 0: binding 0 names no buffer or has no access}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64: 0, 1>, deps = array<i64>}]}

// -----

// expected-error @+1 {{dispatch 0: 'bindings' must be (buffer, access) pairs}}
smepilot.dispatch_table @t {buffers = [{size = array<i64: 4, 0, -1>}], kernels = [@k], n_arguments = 1 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1, 0, -1>, bindings = array<i64: 0>, deps = array<i64>}]}

// -----

// expected-error @+1 {{buffer 0: constant index 2 out of range}}
smepilot.dispatch_table @t {buffers = [{size = array<i64: 4, 1, 2>}], kernels = [], n_arguments = 1 : i64, n_constants = 1 : i64,
  dispatches = []}

// -----

// expected-error @+1 {{dispatch 0: 'tiles' must be an i64 array of 3 values}}
smepilot.dispatch_table @t {buffers = [], kernels = [@k], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [{kernel = 0 : i64, tiles = array<i64: 1>, bindings = array<i64>, deps = array<i64>}]}

// -----

// expected-error @+1 {{n_arguments = 2 and n_constants = 0 must be non-negative, n_arguments <= 1 buffers}}
smepilot.dispatch_table @t {buffers = [{size = array<i64: 4, 0, -1>}], kernels = [], n_arguments = 2 : i64, n_constants = 0 : i64,
  dispatches = []}

// -----

/// The load table runs once, before any phase: it has no constants.
// expected-error @+1 {{the load table (smepilot.load) takes no constants and has no chunk or last_row_only}}
smepilot.dispatch_table @load {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 1 : i64,
  dispatches = [], smepilot.load}

// -----

// expected-error @+1 {{the load table (smepilot.load) takes no constants and has no chunk or last_row_only}}
smepilot.dispatch_table @load {buffers = [], kernels = [], n_arguments = 0 : i64, n_constants = 0 : i64,
  dispatches = [], chunk = 4 : i64, smepilot.load}
