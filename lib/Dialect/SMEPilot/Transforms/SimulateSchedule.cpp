//===- SimulateSchedule.cpp - smepilot-simulate-schedule ------------------===//
//
// What the Roofline decisions predict for a whole phase once the executor
// overlaps the matrix unit and the vector cores (issue 13, "Predicted vs
// delivered"). This machine has no matrix unit: the numbers are predictions
// from the profile's peaks, never measurements.
//
// The task graph. The pass reads linalg on tensors with decisions, as the SME
// pipeline leaves it after `pipeline-attention`: every top-level op there
// becomes at least one dispatch, so each is a task; the call of a collab SME
// variant (`@<caller>_collab<i>`) and the `scf.forall` that continues its
// result are one collab task (form-dispatches makes them one dispatch); a
// call of any other function (a layer) is unrolled, once per call. The
// dependencies are the SSA def-use edges, through the ops that are views and
// no work (tensor.empty, slices, reshapes). Linalg ops without a decision
// (the K-major activation copies partition-collab adds) are costed on the
// spot; work on weights alone (`smepilot.pack_at_load`) runs once at load
// time and is left out.
//
// The machine. One matrix-unit worker and a pool of N vector-core workers,
// as the executor runs a table with one matrix unit. A cpu task spreads its
// tiles over the whole pool (the Roofline cpu_us is for all vector cores),
// so cpu tasks run one after another on the pool; an sme task runs on the
// matrix unit; a collab task has an SME half (its share of the tiles) and a
// CPU half, each started as soon as its unit is free. Ready work goes to a
// free unit lowest task first (table order).
//
// Times. A task's time on a unit is the Roofline's for its decision:
//   sme(s) = max(s * sme_us, (s * weight_bytes + act_bytes) / matrix_bw)
//   cpu(s) = max(s * cpu_us * C / N, (s * weight_bytes + act_bytes) /
//   vector_bw)
// for the share s of the work (1 for a whole op; the collab split, tiles
// rounded down to the granule, for the SME half and 1 - s for the CPU half:
// the Roofline collab model, where each side streams its share of the
// weights and all of the activations). With N = C the compute term is the
// decision's own; with N != C it is recomputed from the FLOPs and the
// vector peak. A collab task is done its profile's sync_overhead_us after
// both halves are. When both units run at once and their byte rates
// (bytes / standalone time) add up to more than mem_bw_gbps, both are slowed
// by the same factor so that together they draw exactly mem_bw_gbps (a
// fluid model, recomputed whenever a unit starts or finishes work).
//
// On a module with dispatch tables the pass counts their dispatches by mode
// instead: those are the real tables' numbers, the task graph above is the
// model's view of the same phase.
//
//===----------------------------------------------------------------------===//

#include "smepilot/Analysis/Roofline.h"
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h"
#include "smepilot/Support/OutputFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <queue>
#include <set>

namespace mlir::smepilot {
#define GEN_PASS_DEF_SIMULATESCHEDULE
#include "smepilot/Dialect/SMEPilot/Transforms/Passes.h.inc"
} // namespace mlir::smepilot

using namespace mlir;
using namespace mlir::smepilot;

namespace {

/// Set by partition-collab and tile-sme on the K-major copies of weights,
/// which smepilot-hoist-load-time moves to the load table.
constexpr llvm::StringLiteral kPackAtLoadAttr = "smepilot.pack_at_load";

enum Side { kSme = 0, kCpu = 1 };

/// One half of a task on one unit: its time alone and the bytes it moves.
struct Part {
  double us = 0;
  double bytes = 0;
};

struct Task {
  std::string name;
  ExecMode unit = ExecMode::cpu;
  bool pipelined = false;
  /// Work on the matrix unit and on the vector cores; a task without work
  /// on a side has none there.
  std::optional<Part> part[2];
  /// The all-CPU prediction of the same work (the decisions' cpu_us), and
  /// the Roofline report's time of its mode (cpu_us, sme_us or collab_us).
  double allCpuUs = 0, chosenUs = 0;
  SmallVector<unsigned> deps;
};

/// The profile's numbers the times need, in bytes and microseconds.
struct Machine {
  TargetAttr target;
  double vectorBytesPerUs, matrixBytesPerUs, memBytesPerUs;
  double cores, workers;
  double syncUs, overheadUs;

  double cpuUs(DecisionAttr d, double share) const {
    double compute = d.getCpuUs();
    if (workers != cores) {
      Type elem = d.getElem();
      double gflops = vectorPeakGflops(target, elem) *
                      vectorEfficiency(d.getVectorization(), elem, target);
      compute = gflops > 0 ? double(d.getFlops()) / (gflops * 1e3) : 0;
      compute *= cores / workers;
    }
    return std::max(share * compute, bytes(d, share) / vectorBytesPerUs);
  }
  double smeUs(DecisionAttr d, double share) const {
    return std::max(share * d.getSmeUs(), bytes(d, share) / matrixBytesPerUs);
  }
  static double bytes(DecisionAttr d, double share) {
    return share * double(d.getWeightBytes()) + double(d.getActBytes());
  }
};

/// The SME share of a collab task's tiles, as the runtime splits them:
/// floor(tiles * sme_share / 65536) rounded down to a multiple of the
/// granule.
double collabShare(DictionaryAttr collab) {
  auto get = [&](StringRef key, int64_t dflt) {
    if (auto a = collab ? collab.getAs<IntegerAttr>(key) : IntegerAttr())
      return a.getInt();
    return dflt;
  };
  int64_t tiles = get("tiles", 0), share = get("sme_share", 0),
          granule = std::max<int64_t>(1, get("tile_granule", 1));
  if (tiles <= 0)
    return 0;
  int64_t split = tiles * share / 65536;
  split -= split % granule;
  return double(std::clamp<int64_t>(split, 0, tiles)) / double(tiles);
}

/// Builds the task graph of one phase.
class GraphBuilder {
public:
  GraphBuilder(const Machine &m, int64_t dynamicSize)
      : machine(m), dynamicSize(dynamicSize) {}

  std::vector<Task> tasks;
  unsigned notCosted = 0;

  using Deps = SmallVector<unsigned, 2>;
  using Env = llvm::DenseMap<Value, Deps>;

  /// Visits `block` (a phase body, or a callee's, unrolled) and returns the
  /// producers of the values its terminator returns.
  SmallVector<Deps> visit(Block &block, Env &env, StringRef phase);

private:
  const Machine &machine;
  int64_t dynamicSize;
  /// Collab tasks by the value of their SME variant's call, until the
  /// scf.forall that continues it is seen.
  llvm::DenseMap<Value, unsigned> collabByValue;

  Deps depsOf(Operation *op, Env &env, Value skip = {});
  unsigned addTask(Task task, const Deps &deps);
  DecisionAttr decisionOf(Operation *op);
  void addOpTask(Operation *op, DecisionAttr d, Env &env, StringRef phase);
};

GraphBuilder::Deps GraphBuilder::depsOf(Operation *op, Env &env, Value skip) {
  llvm::SetVector<Value> used;
  for (Value v : op->getOperands())
    used.insert(v);
  getUsedValuesDefinedAbove(op->getRegions(), used);
  Deps deps;
  for (Value v : used) {
    if (v == skip)
      continue;
    auto it = env.find(v);
    if (it != env.end())
      deps.append(it->second.begin(), it->second.end());
  }
  llvm::sort(deps);
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  return deps;
}

unsigned GraphBuilder::addTask(Task task, const Deps &deps) {
  task.deps.assign(deps.begin(), deps.end());
  tasks.push_back(std::move(task));
  return tasks.size() - 1;
}

/// The op's decision, or one made on the spot for a costable op without.
DecisionAttr GraphBuilder::decisionOf(Operation *op) {
  if (auto d = op->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName))
    return d;
  if (!isCostableOp(op))
    return {};
  CharacterizeOptions options;
  options.dynamicSize = dynamicSize;
  FailureOr<OpCharacterization> c = characterizeOp(op, options);
  if (failed(c)) {
    ++notCosted;
    return {};
  }
  RooflinePrediction p = predict(*c, machine.target);
  std::string whyNot;
  FailureOr<RooflinePrediction> cpu =
      forceMode(*c, machine.target, ExecMode::cpu, whyNot);
  return buildDecision(op->getContext(), *c, succeeded(cpu) ? *cpu : p,
                       /*forced=*/false);
}

void GraphBuilder::addOpTask(Operation *op, DecisionAttr d, Env &env,
                             StringRef phase) {
  Task t;
  t.name = (phase + ":" + op->getName().getStringRef()).str();
  if (auto stage = op->getAttrOfType<StringAttr>(kStageAttr)) {
    t.name += "@" + stage.getValue().str();
    t.pipelined = true;
  }
  t.unit = getSingleUnit(d);
  t.allCpuUs = d.getCpuUs();
  t.chosenUs = t.unit == ExecMode::sme ? d.getSmeUs() : d.getCpuUs();
  if (t.unit == ExecMode::sme)
    t.part[kSme] = Part{machine.smeUs(d, 1), Machine::bytes(d, 1)};
  else
    t.part[kCpu] = Part{machine.cpuUs(d, 1), Machine::bytes(d, 1)};
  unsigned id = addTask(std::move(t), depsOf(op, env));
  for (Value r : op->getResults())
    env[r] = {id};
}

SmallVector<GraphBuilder::Deps> GraphBuilder::visit(Block &block, Env &env,
                                                    StringRef phase) {
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      SmallVector<Deps> results;
      for (Value v : op.getOperands())
        results.push_back(env.lookup(v));
      return results;
    }
    if (op.hasAttr(kPackAtLoadAttr))
      continue; // load-time work

    if (auto call = dyn_cast<func::CallOp>(op)) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (callee && callee->hasAttr(kCollabKernelAttr)) {
        // The SME variant of a collab op: its decision is the whole op's.
        DecisionAttr d;
        callee.walk([&](Operation *inner) {
          if (!d)
            d = inner->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
        });
        if (!d) {
          ++notCosted;
          continue;
        }
        double s = collabShare(
            callee->getAttrOfType<DictionaryAttr>(kCollabKernelAttr));
        Task t;
        t.name = (phase + ":collab").str();
        t.unit = ExecMode::collab;
        t.allCpuUs = d.getCpuUs();
        t.chosenUs = d.getCollabUs();
        if (s > 0)
          t.part[kSme] = Part{machine.smeUs(d, s), Machine::bytes(d, s)};
        if (s < 1)
          t.part[kCpu] =
              Part{machine.cpuUs(d, 1 - s), Machine::bytes(d, 1 - s)};
        unsigned id = addTask(std::move(t), depsOf(call, env));
        for (Value r : call.getResults()) {
          env[r] = {id};
          collabByValue[r] = id;
        }
        continue;
      }
      if (callee && !callee.isExternal()) {
        // A layer: its body once more, on this call's operands.
        Env inner;
        for (auto [arg, operand] :
             llvm::zip(callee.getArguments(), call.getOperands()))
          inner[arg] = env.lookup(operand);
        SmallVector<Deps> results = visit(callee.front(), inner, phase);
        for (auto [r, deps] : llvm::zip(call.getResults(), results))
          env[r] = deps;
        continue;
      }
    }

    if (auto forall = dyn_cast<scf::ForallOp>(op);
        forall && forall->hasAttr(kCollabKernelAttr)) {
      // The vector-core variant of a collab op: part of the call's task.
      for (Value out : forall.getOutputs()) {
        auto it = collabByValue.find(out);
        if (it == collabByValue.end())
          continue;
        Deps deps = depsOf(forall, env, out);
        Task &t = tasks[it->second];
        t.deps.append(deps.begin(), deps.end());
        llvm::sort(t.deps);
        t.deps.erase(std::unique(t.deps.begin(), t.deps.end()), t.deps.end());
        for (Value r : forall.getResults())
          env[r] = {it->second};
        break;
      }
      if (!forall.getResults().empty() && env.count(forall.getResult(0)))
        continue;
    }

    if (DecisionAttr d = decisionOf(&op)) {
      addOpTask(&op, d, env, phase);
      continue;
    }

    if (op.getNumRegions() > 0) {
      // A loop or a tile space around decided ops (MoE experts): one task,
      // its ops one after another on the unit that runs them.
      double smeUs = 0, cpuUs = 0, allCpu = 0, smeBytes = 0, cpuBytes = 0;
      op.walk([&](Operation *inner) {
        auto d = inner->getAttrOfType<DecisionAttr>(DecisionAttr::kAttrName);
        if (!d)
          return;
        allCpu += d.getCpuUs();
        if (getSingleUnit(d) == ExecMode::sme) {
          smeUs += machine.smeUs(d, 1);
          smeBytes += Machine::bytes(d, 1);
        } else {
          cpuUs += machine.cpuUs(d, 1);
          cpuBytes += Machine::bytes(d, 1);
        }
      });
      if (allCpu > 0) {
        Task t;
        t.name = (phase + ":" + op.getName().getStringRef()).str();
        t.allCpuUs = allCpu;
        t.chosenUs = cpuUs + smeUs;
        t.unit = cpuUs > 0 ? ExecMode::cpu : ExecMode::sme;
        // Serial on one unit: the SME ops' time counted on the cpu side
        // when both kinds are nested.
        if (t.unit == ExecMode::cpu)
          t.part[kCpu] = Part{cpuUs + smeUs, cpuBytes + smeBytes};
        else
          t.part[kSme] = Part{smeUs, smeBytes};
        unsigned id = addTask(std::move(t), depsOf(&op, env));
        for (Value r : op.getResults())
          env[r] = {id};
        continue;
      }
    }

    // No work: results depend on whatever the operands depend on.
    Deps deps = depsOf(&op, env);
    for (Value r : op.getResults())
      env[r] = deps;
  }
  return {};
}

/// The result of scheduling one task graph.
struct Schedule {
  double makespan = 0;
  double busy[2] = {0, 0};
  double both = 0;
  std::vector<double> start[2], end[2], done;
};

/// List scheduling with a fluid bandwidth model (file comment).
Schedule simulate(const std::vector<Task> &tasks, const Machine &m) {
  const double inf = std::numeric_limits<double>::infinity();
  size_t n = tasks.size();
  Schedule s;
  for (int u = 0; u < 2; ++u) {
    s.start[u].assign(n, -1);
    s.end[u].assign(n, -1);
  }
  s.done.assign(n, -1);
  std::vector<unsigned> depsLeft(n), partsLeft(n);
  std::vector<SmallVector<unsigned>> users(n);
  for (unsigned i = 0; i < n; ++i) {
    depsLeft[i] = tasks[i].deps.size();
    for (unsigned d : tasks[i].deps)
      users[d].push_back(i);
  }
  std::set<unsigned> ready[2];
  using Join = std::pair<double, unsigned>;
  std::priority_queue<Join, std::vector<Join>, std::greater<Join>> joins;

  // Releases task i at time t; zero-work tasks complete at once.
  SmallVector<std::pair<unsigned, double>> releases;
  auto drainReleases = [&]() {
    while (!releases.empty()) {
      auto [i, t] = releases.pop_back_val();
      unsigned parts = 0;
      for (int u = 0; u < 2; ++u)
        if (tasks[i].part[u]) {
          ready[u].insert(i);
          ++parts;
        }
      partsLeft[i] = parts;
      if (parts == 0) {
        s.done[i] = t;
        for (unsigned user : users[i])
          if (--depsLeft[user] == 0)
            releases.push_back({user, t});
      }
    }
  };
  for (unsigned i = 0; i < n; ++i)
    if (depsLeft[i] == 0)
      releases.push_back({i, 0.0});
  drainReleases();

  struct Running {
    unsigned task;
    double us, bytes, left; ///< left: the fraction of the work still to do
  };
  std::optional<Running> running[2];
  double t = 0;
  while (true) {
    for (int u = 0; u < 2; ++u)
      if (!running[u] && !ready[u].empty()) {
        unsigned i = *ready[u].begin();
        ready[u].erase(ready[u].begin());
        const Part &p = *tasks[i].part[u];
        double partUs = p.us + m.overheadUs;
        running[u] = Running{i, partUs, p.bytes, partUs > 0 ? 1.0 : 0.0};
        s.start[u][i] = t;
      }
    if (!running[0] && !running[1] && joins.empty())
      break;
    // Both units at once: scale both so that they draw at most mem_bw.
    double factor = 1;
    if (running[0] && running[1]) {
      double rate = 0;
      for (int u = 0; u < 2; ++u)
        if (running[u]->us > 0)
          rate += running[u]->bytes / running[u]->us;
      if (rate > m.memBytesPerUs)
        factor = m.memBytesPerUs / rate;
    }
    // The next event: the first unit to finish (which then finishes by
    // definition, whatever the rounding of t + step), or a join.
    double step = joins.empty() ? inf : std::max(0.0, joins.top().first - t);
    int first = -1;
    for (int u = 0; u < 2; ++u)
      if (running[u]) {
        double need = running[u]->left * running[u]->us / factor;
        if (need < step) {
          step = need;
          first = u;
        }
      }
    for (int u = 0; u < 2; ++u)
      if (running[u]) {
        s.busy[u] += step;
        if (u == first)
          running[u]->left = 0;
        else if (running[u]->us > 0)
          running[u]->left -= step * factor / running[u]->us;
      }
    if (running[0] && running[1])
      s.both += step;
    t = first < 0 ? joins.top().first : t + step;
    for (int u = 0; u < 2; ++u) {
      if (!running[u] || running[u]->left > 1e-12)
        continue;
      unsigned i = running[u]->task;
      s.end[u][i] = t;
      running[u].reset();
      if (--partsLeft[i] == 0)
        joins.push(
            {t + (tasks[i].unit == ExecMode::collab ? m.syncUs : 0.0), i});
    }
    while (!joins.empty() && joins.top().first <= t) {
      auto [when, i] = joins.top();
      joins.pop();
      s.done[i] = when;
      for (unsigned user : users[i])
        if (--depsLeft[user] == 0)
          releases.push_back({user, when});
    }
    drainReleases();
  }
  for (double d : s.done)
    s.makespan = std::max(s.makespan, d);
  return s;
}

std::string us(double v) { return llvm::formatv("{0:F2}", v).str(); }

void printPhase(llvm::raw_ostream &os, StringRef phase,
                const std::vector<Task> &tasks, unsigned notCosted,
                const Machine &m, bool trace) {
  unsigned counts[3] = {0, 0, 0}, pipelined = 0;
  double allCpu = 0, serial = 0;
  for (const Task &t : tasks) {
    counts[static_cast<unsigned>(t.unit)]++;
    pipelined += t.pipelined;
    allCpu += t.allCpuUs;
    serial += t.chosenUs;
  }
  Schedule s = simulate(tasks, m);
  os << "phase " << phase << ": " << tasks.size() << " tasks (cpu " << counts[0]
     << ", sme " << counts[1] << ", collab " << counts[2] << "; pipelined "
     << pipelined << ")";
  if (notCosted)
    os << ", " << notCosted << " ops not costed";
  os << "\n";
  os << "  all-cpu:   " << us(allCpu) << " us\n";
  os << "  serial:    " << us(serial) << " us (these modes, one task at a "
     << "time)\n";
  os << "  scheduled: " << us(s.makespan) << " us";
  if (s.makespan > 0)
    os << llvm::formatv(" (x{0:F2})", allCpu / s.makespan).str();
  os << "; matrix unit busy " << us(s.busy[kSme]) << " us, vector cores busy "
     << us(s.busy[kCpu]) << " us, both " << us(s.both) << " us\n";
  if (!trace)
    return;
  for (auto [i, t] : llvm::enumerate(tasks)) {
    os << "  task " << i << " " << stringifyExecMode(t.unit) << " " << t.name;
    for (int u : {kSme, kCpu})
      if (s.start[u][i] >= 0)
        os << (u == kSme ? " sme " : " cpu ") << us(s.start[u][i]) << ".."
           << us(s.end[u][i]);
    os << " done " << us(s.done[i]) << "\n";
  }
}

void printTables(llvm::raw_ostream &os, ModuleOp module) {
  module.walk([&](DispatchTableOp table) {
    unsigned counts[3] = {0, 0, 0}, pipelined = 0, total = 0;
    for (auto d : table.getDispatches().getAsRange<DispatchAttr>()) {
      ++total;
      counts[static_cast<unsigned>(d.getMode())]++;
      pipelined += d.getName().contains("@attn.");
    }
    os << "table " << table.getSymName() << ": " << total << " dispatches (cpu "
       << counts[0] << ", sme " << counts[1] << ", collab " << counts[2]
       << "; pipelined " << pipelined << ")\n";
  });
}

struct SimulateSchedulePass
    : public mlir::smepilot::impl::SimulateScheduleBase<SimulateSchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    markAllAnalysesPreserved();
    llvm::raw_ostream &os = llvm::outs();
    bool hasTables = false;
    module.walk([&](DispatchTableOp) { hasTables = true; });
    if (hasTables) {
      printTables(os, module);
      return finish(module);
    }

    auto target = module->getAttrOfType<TargetAttr>(TargetAttr::kAttrName);
    if (!target) {
      module.emitError("smepilot-simulate-schedule: the module has no '")
          << TargetAttr::kAttrName << "': run smepilot-roofline-annotate first";
      return signalPassFailure();
    }
    if (vectorWorkers < 0 || dispatchOverheadUs < 0) {
      module.emitError("smepilot-simulate-schedule: vector-workers and "
                       "dispatch-overhead-us must not be negative");
      return signalPassFailure();
    }
    Machine m;
    m.target = target;
    m.vectorBytesPerUs = target.getVectorBwGbps() * 1e3;
    m.matrixBytesPerUs = target.getMatrixBwGbps() * 1e3;
    m.memBytesPerUs = target.getMemBwGbps() * 1e3;
    m.cores = target.getVectorCores();
    m.workers = vectorWorkers ? double(vectorWorkers) : m.cores;
    m.syncUs = target.getSyncOverheadUs();
    m.overheadUs = dispatchOverheadUs;

    os << "schedule simulation, profile '" << target.getName() << "': 1 "
       << "matrix-unit worker, " << int64_t(m.workers)
       << " vector-core workers (" << int64_t(m.cores)
       << " in the profile), shared " << us(target.getMemBwGbps())
       << " GB/s; predictions, not measurements\n";
    for (auto func : module.getOps<func::FuncOp>()) {
      auto phase = func->getAttrOfType<StringAttr>(kPhaseAttr);
      if (!phase || func.isExternal())
        continue;
      GraphBuilder builder(m, dynamicSize);
      GraphBuilder::Env env;
      builder.visit(func.front(), env, phase.getValue());
      printPhase(os, phase.getValue(), builder.tasks, builder.notCosted, m,
                 trace);
    }
    finish(module);
  }

  void finish(ModuleOp module) {
    if (llvm::Error err = flushStdout()) {
      module.emitError("smepilot-simulate-schedule: ")
          << llvm::toString(std::move(err));
      signalPassFailure();
    }
  }
};

} // namespace
