// smepilot-bench: prompt-processing and generation speed, llama-bench style.
//
//   smepilot-bench -m model.gguf -p 512 -n 128 -r 5 -t 1,2 --engine
//   reference,jit
//
// For every model, engine, thread count and batch size (in that nesting) an
// engine is created once, then each test runs -r times after one untimed
// warmup run:
//   ppP    P tokens evaluated from an empty cache (chunks of -b), the last
//          token's logits: P / time tokens/s;
//   tgN    N single-token evals from an empty cache: N / time;
//   ppP+tgN  the two in a row: (P + N) / time.
// Tokens are random ids from a fixed seed (BOS first when the model adds
// BOS); llama-bench measures the same way. Results go to stdout (a markdown
// table, CSV or JSON, one row per test as it finishes), progress to stderr.
// Every failure prints one line "smepilot-bench: error: ..." and exits 1.
#include "args.h"
#include "engines.h"

#include "smepilot_rt/cpu_count.h"
#include "smepilot_rt/cpu_features.h"
#include "smepilot_rt/default_model.h"
#include "smepilot_rt/ggml_types.h"
#include "smepilot_rt/gguf.h"
#include "smepilot_rt/model.h"
#include "smepilot_rt/output_file.h"
#include "smepilot_rt/tokenizer.h"
#include "smepilot_rt/version.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <type_traits>

using namespace smepilot;
using rt::status;

namespace {

using clock_type = std::chrono::steady_clock;

int fail(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "smepilot-bench: error: %s\n", message.c_str());
  return 1;
}

// ---------------------------------------------------------------------------
// What is measured
// ---------------------------------------------------------------------------

/// What the tables say about a model file.
struct model_info {
  std::string path;
  std::string filename; ///< The path's last component.
  std::string type;     ///< "llama 292K F32": arch, parameters, main type.
  uint64_t size_bytes = 0;
  uint64_t n_params = 0;
  int32_t bos = -1; ///< The BOS id when the model adds BOS, else -1.
};

struct test_spec {
  int32_t n_prompt = 0;
  int32_t n_gen = 0;
  std::string name() const {
    if (n_gen == 0)
      return "pp" + std::to_string(n_prompt);
    if (n_prompt == 0)
      return "tg" + std::to_string(n_gen);
    return "pp" + std::to_string(n_prompt) + "+tg" + std::to_string(n_gen);
  }
  int64_t n_tokens() const { return int64_t(n_prompt) + n_gen; }
};

/// One row: a test on one engine instance, with every run's time.
struct result_row {
  const model_info *model = nullptr;
  std::string engine;
  int threads = 0;
  int32_t n_batch = 0;
  int32_t n_ctx = 0;
  test_spec test;
  int64_t load_ns = 0;
  std::string test_time; ///< UTC, when the first timed run started.
  std::vector<int64_t> samples_ns;

  std::vector<double> samples_ts() const {
    std::vector<double> ts;
    for (int64_t ns : samples_ns)
      ts.push_back(double(test.n_tokens()) * 1e9 /
                   double(std::max<int64_t>(ns, 1)));
    return ts;
  }
};

double mean(const std::vector<double> &v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return v.empty() ? 0 : sum / double(v.size());
}

/// Sample standard deviation (n - 1); 0 for fewer than two samples.
double stddev(const std::vector<double> &v) {
  if (v.size() < 2)
    return 0;
  const double m = mean(v);
  double sq = 0;
  for (double x : v)
    sq += (x - m) * (x - m);
  return std::sqrt(sq / double(v.size() - 1));
}

std::vector<double> as_doubles(const std::vector<int64_t> &v) {
  return std::vector<double>(v.begin(), v.end());
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string format(const char *fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

/// "292K", "15M", "1.2B": the size class in a model's type.
std::string params_class(uint64_t n) {
  if (n >= 1000000000)
    return format("%.1fB", double(n) / 1e9);
  if (n >= 1000000)
    return format("%.0fM", double(n) / 1e6);
  if (n >= 1000)
    return format("%.0fK", double(n) / 1e3);
  return std::to_string(n);
}

std::string size_text(uint64_t bytes) {
  if (bytes >= (uint64_t(1) << 30))
    return format("%.2f GiB", double(bytes) / double(1 << 30));
  return format("%.2f MiB", double(bytes) / double(1 << 20));
}

std::string params_text(uint64_t n) {
  if (n >= 1000000000)
    return format("%.2f B", double(n) / 1e9);
  if (n >= 1000000)
    return format("%.2f M", double(n) / 1e6);
  return format("%.2f K", double(n) / 1e3);
}

/// Opens a model (mapped: cheap) to check it and describe it, before
/// anything is measured.
rt::result<model_info> describe_model(const std::string &path) {
  rt::gguf_open_options oo;
  oo.mode = rt::gguf_load_mode::mmap;
  auto file = rt::gguf_file::open(path, oo);
  if (!file)
    return file.take_error();
  auto config = rt::read_model_config(**file);
  if (!config)
    return config.take_error();
  auto tok = rt::tokenizer::from_gguf(**file);
  if (!tok)
    return tok.take_error();
  model_info m;
  m.path = path;
  const size_t slash = path.find_last_of('/');
  m.filename = slash == std::string::npos ? path : path.substr(slash + 1);
  // The type holding most of the weight bytes names the model, as
  // llama-bench's "Q4_0" or "BF16" does.
  std::map<std::string, uint64_t> bytes_by_type;
  for (const rt::gguf_tensor_info &t : (*file)->tensors()) {
    m.size_bytes += t.n_bytes;
    m.n_params += t.n_elements;
    if (t.dims.size() >= 2)
      bytes_by_type[rt::ggml_type_name(t.type)] += t.n_bytes;
  }
  std::string main_type = "?";
  uint64_t most = 0;
  for (const auto &[name, bytes] : bytes_by_type)
    if (bytes > most) {
      most = bytes;
      main_type = name;
    }
  for (char &c : main_type)
    c = char(std::toupper(static_cast<unsigned char>(c)));
  m.type = std::string(rt::model_arch_name(config->arch)) + " " +
           params_class(m.n_params) + " " + main_type;
  if ((*tok)->add_bos_default() && (*tok)->bos_id() >= 0)
    m.bos = (*tok)->bos_id();
  return m;
}

// ---------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------

struct machine_info {
  std::string cpu;      ///< "AMD EPYC ..." (model name in /proc/cpuinfo).
  std::string features; ///< rt::describe(detect_cpu_features()).
  int n_cpus = 1;       ///< Hardware threads.
};

machine_info describe_machine() {
  machine_info m;
  m.n_cpus = int(std::max(1u, std::thread::hardware_concurrency()));
  const rt::cpu_features f = rt::detect_cpu_features();
  m.features = rt::describe(f);
  std::ifstream in("/proc/cpuinfo");
  std::string line, implementer, part;
  auto value = [](const std::string &l) {
    const size_t colon = l.find(':');
    std::string v = colon == std::string::npos ? "" : l.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    return v;
  };
  while (std::getline(in, line)) {
    if (m.cpu.empty() && line.rfind("model name", 0) == 0)
      m.cpu = value(line);
    else if (implementer.empty() && line.rfind("CPU implementer", 0) == 0)
      implementer = value(line);
    else if (part.empty() && line.rfind("CPU part", 0) == 0)
      part = value(line);
  }
  if (m.cpu.empty() && !implementer.empty())
    m.cpu = "implementer " + implementer + ", part " + part;
  if (m.cpu.empty())
    m.cpu = f.arch == rt::cpu_arch::aarch64  ? "aarch64"
            : f.arch == rt::cpu_arch::x86_64 ? "x86-64"
                                             : "unknown";
  return m;
}

// ---------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------

std::string csv_field(const std::string &s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"')
      q += '"';
    q += c;
  }
  return q + "\"";
}

template <typename T> std::string join(const std::vector<T> &v, char sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i)
      s += sep;
    if constexpr (std::is_floating_point_v<T>)
      s += format("%.6f", v[i]);
    else
      s += std::to_string(v[i]);
  }
  return s;
}

/// Writes rows as they come; begin() before the first, end() after the last.
class report {
public:
  report(const bench::options &o, const machine_info &machine,
         size_t model_width)
      : o_(o), machine_(machine), model_width_(model_width) {
    show_batch_ = o.n_batch.size() > 1 || o.n_batch[0] != 64;
  }

  status row(const result_row &r) {
    std::string text = rows_ == 0 ? header() : "";
    switch (o_.format) {
    case bench::output_format::md:
      text += md_row(r);
      break;
    case bench::output_format::csv:
      text += csv_row(r);
      break;
    case bench::output_format::json:
      // A path that is not UTF-8 gets U+FFFD, never an exception.
      text += (rows_ ? ",\n" : "") +
              json_row(r).dump(2, ' ', false,
                               nlohmann::json::error_handler_t::replace);
      break;
    }
    ++rows_;
    return rt::write_stdout(text);
  }

  status end() {
    if (o_.format == bench::output_format::json)
      return rt::write_stdout(rows_ ? "\n]\n" : "[]\n");
    return rt::flush_stdout();
  }

private:
  struct column {
    std::string name;
    size_t width;
    bool right;
  };

  std::vector<column> md_columns() const {
    std::vector<column> c{{"model", model_width_, false},
                          {"size", 10, true},
                          {"params", 10, true},
                          {"engine", 9, false},
                          {"threads", 7, true}};
    if (show_batch_)
      c.push_back({"n_batch", 7, true});
    c.push_back({"test", 13, true});
    c.push_back({"t/s", 20, true});
    return c;
  }

  /// Pads to `width` characters (UTF-8: "±" is one).
  static std::string pad(const std::string &s, size_t width, bool right) {
    size_t chars = 0;
    for (char c : s)
      chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars >= width)
      return s;
    const std::string fill(width - chars, ' ');
    return right ? fill + s : s + fill;
  }

  std::string md_line(const std::vector<std::string> &cells) const {
    const std::vector<column> cols = md_columns();
    std::string line = "|";
    for (size_t i = 0; i < cols.size(); ++i)
      line += " " + pad(cells[i], cols[i].width, cols[i].right) + " |";
    return line + "\n";
  }

  std::string header() const {
    switch (o_.format) {
    case bench::output_format::md: {
      std::vector<std::string> names, rules;
      for (const column &c : md_columns()) {
        names.push_back(c.name);
        rules.push_back(c.right ? std::string(c.width - 1, '-') + ":"
                                : std::string(c.width, '-'));
      }
      return md_line(names) + md_line(rules);
    }
    case bench::output_format::csv:
      return "build,cpu_info,cpu_features,n_cpus,model_filename,model_type,"
             "model_size,model_n_params,engine,n_threads,n_batch,n_ctx,"
             "n_prompt,n_gen,test,warmup,repetitions,test_time,load_ns,"
             "avg_ns,stddev_ns,avg_ts,stddev_ts,samples_ns,samples_ts\n";
    case bench::output_format::json:
      return "[\n";
    }
    return "";
  }

  std::string md_row(const result_row &r) const {
    const std::vector<double> ts = r.samples_ts();
    std::vector<std::string> cells{
        r.model->type, size_text(r.model->size_bytes),
        params_text(r.model->n_params), r.engine, std::to_string(r.threads)};
    if (show_batch_)
      cells.push_back(std::to_string(r.n_batch));
    cells.push_back(r.test.name());
    cells.push_back(format("%.2f", mean(ts)) + " ± " +
                    format("%.2f", stddev(ts)));
    return md_line(cells);
  }

  std::string csv_row(const result_row &r) const {
    const std::vector<double> ts = r.samples_ts();
    const std::vector<double> ns = as_doubles(r.samples_ns);
    const std::vector<std::string> cells{
        rt::version_string(),
        machine_.cpu,
        machine_.features,
        std::to_string(machine_.n_cpus),
        r.model->path,
        r.model->type,
        std::to_string(r.model->size_bytes),
        std::to_string(r.model->n_params),
        r.engine,
        std::to_string(r.threads),
        std::to_string(r.n_batch),
        std::to_string(r.n_ctx),
        std::to_string(r.test.n_prompt),
        std::to_string(r.test.n_gen),
        r.test.name(),
        o_.warmup ? "1" : "0",
        std::to_string(r.samples_ns.size()),
        r.test_time,
        std::to_string(r.load_ns),
        std::to_string(int64_t(std::llround(mean(ns)))),
        std::to_string(int64_t(std::llround(stddev(ns)))),
        format("%.6f", mean(ts)),
        format("%.6f", stddev(ts)),
        join(r.samples_ns, ';'),
        join(ts, ';')};
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i)
      line += (i ? "," : "") + csv_field(cells[i]);
    return line + "\n";
  }

  nlohmann::ordered_json json_row(const result_row &r) const {
    const std::vector<double> ts = r.samples_ts();
    const std::vector<double> ns = as_doubles(r.samples_ns);
    nlohmann::ordered_json j;
    j["build"] = rt::version_string();
    j["cpu_info"] = machine_.cpu;
    j["cpu_features"] = machine_.features;
    j["n_cpus"] = machine_.n_cpus;
    j["model_filename"] = r.model->path;
    j["model_type"] = r.model->type;
    j["model_size"] = r.model->size_bytes;
    j["model_n_params"] = r.model->n_params;
    j["engine"] = r.engine;
    j["n_threads"] = r.threads;
    j["n_batch"] = r.n_batch;
    j["n_ctx"] = r.n_ctx;
    j["n_prompt"] = r.test.n_prompt;
    j["n_gen"] = r.test.n_gen;
    j["test"] = r.test.name();
    j["warmup"] = o_.warmup;
    j["adaptive"] = o_.adaptive;
    j["repetitions"] = r.samples_ns.size();
    j["test_time"] = r.test_time;
    j["load_ns"] = r.load_ns;
    j["avg_ns"] = int64_t(std::llround(mean(ns)));
    j["stddev_ns"] = int64_t(std::llround(stddev(ns)));
    j["avg_ts"] = mean(ts);
    j["stddev_ts"] = stddev(ts);
    j["samples_ns"] = r.samples_ns;
    j["samples_ts"] = ts;
    return j;
  }

  const bench::options &o_;
  const machine_info &machine_;
  size_t model_width_;
  bool show_batch_ = false;
  size_t rows_ = 0;
};

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

void progress(const bench::options &o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void progress(const bench::options &o, const char *fmt, ...) {
  if (!o.progress)
    return;
  std::fputs("smepilot-bench: ", stderr);
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputc('\n', stderr);
}

/// Random valid token ids from a fixed seed.
class token_source {
public:
  token_source(int32_t n_vocab, int32_t bos)
      : rng_(1234), pick_(0, n_vocab - 1), bos_(bos) {}
  /// The first token of a sequence: BOS when the model adds it.
  int32_t first() { return bos_ >= 0 ? bos_ : next(); }
  int32_t next() { return pick_(rng_); }

private:
  std::mt19937 rng_;
  std::uniform_int_distribution<int32_t> pick_;
  int32_t bos_;
};

/// One run of `test` from an empty cache; `n_gen` overrides the test's
/// (a warmup evaluates one generated token). Returns the nanoseconds taken.
rt::result<int64_t> run_once(rt::engine &eng, const test_spec &test,
                             int32_t n_gen, token_source &tokens,
                             std::vector<float> &logits) {
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < test.n_prompt; ++i)
    prompt.push_back(i == 0 ? tokens.first() : tokens.next());
  int32_t id = test.n_prompt == 0 ? tokens.first() : tokens.next();
  eng.reset();
  const auto t0 = clock_type::now();
  if (!prompt.empty())
    SMEPILOT_RT_RETURN_IF_ERROR(
        eng.eval(prompt, 0, rt::logits_mode::last, logits.data()));
  for (int32_t i = 0; i < n_gen; ++i) {
    SMEPILOT_RT_RETURN_IF_ERROR(eng.eval({&id, 1}, test.n_prompt + i,
                                         rt::logits_mode::last, logits.data()));
    id = tokens.next();
  }
  const auto t1 = clock_type::now();
  return int64_t(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

int bench_main(int argc, char **argv) {
  auto parsed = bench::parse_args(argc, argv);
  if (!parsed)
    return fail(parsed.error().message());
  bench::options o = std::move(*parsed);
  if (o.help) {
    if (status st = rt::write_stdout(bench::usage()); !st)
      return fail(st.message());
    return 0;
  }
  if (o.version) {
    if (status st = rt::write_stdout(std::string("smepilot-bench ") +
                                     rt::version_string() + "\n");
        !st)
      return fail(st.message());
    return 0;
  }

  // Everything that can be checked is checked before the first run.
  std::vector<test_spec> tests;
  for (int32_t p : o.n_prompt)
    if (p > 0)
      tests.push_back({p, 0});
  for (int32_t n : o.n_gen)
    if (n > 0)
      tests.push_back({0, n});
  for (const bench::pg_size &pg : o.pg)
    tests.push_back({pg.n_prompt, pg.n_gen});
  if (tests.empty())
    return fail("nothing to measure: every -p and -n is 0 and there is no -pg");
  const test_spec *largest = &tests[0];
  for (const test_spec &t : tests)
    if (t.n_tokens() > largest->n_tokens())
      largest = &t;
  if (o.n_ctx > 0 && o.n_ctx < largest->n_tokens())
    return fail("-c " + std::to_string(o.n_ctx) + " is too small: test " +
                largest->name() + " needs " +
                std::to_string(largest->n_tokens()) + " positions");
  const int32_t n_ctx = o.n_ctx > 0 ? o.n_ctx : int32_t(largest->n_tokens());

  const int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
  if (o.threads.empty()) // the CPUs this process may use (cpu_count.h)
    o.threads.push_back(rt::default_thread_count());
  for (int t : o.threads)
    if (t > 4 * hardware)
      return fail("-t " + std::to_string(t) +
                  " is more than 4 threads for each of the " +
                  std::to_string(hardware) +
                  " hardware threads of this machine; lower -t");
  for (const std::string &e : o.engines)
    if (status st = run::check_engine(e); !st)
      return fail(st.message());

  if (o.models.empty()) {
    rt::result<std::string> model = rt::default_model_path();
    if (!model)
      return fail(model.error().message());
    o.models.push_back(std::move(*model));
  }
  std::vector<model_info> models;
  size_t model_width = 5;
  for (const std::string &path : o.models) {
    auto m = describe_model(path);
    if (!m)
      return fail(m.error().message());
    model_width = std::max(model_width, m->type.size());
    models.push_back(std::move(*m));
  }

  const machine_info machine = describe_machine();
  report out(o, machine, model_width);
  for (const model_info &model : models) {
    auto file = rt::gguf_file::open(model.path);
    if (!file)
      return fail(file.error().message());
    for (const std::string &engine_name : o.engines)
      for (int threads : o.threads)
        for (int32_t n_batch : o.n_batch) {
          rt::engine_options eo;
          eo.n_threads = threads;
          eo.adaptive = o.adaptive;
          eo.n_ctx = n_ctx;
          eo.n_batch = n_batch;
          const auto t0 = clock_type::now();
          auto eng = run::create_engine(engine_name, **file, eo, "", o.verbose);
          if (!eng)
            return fail(eng.error().message());
          const int64_t load_ns =
              std::chrono::duration_cast<std::chrono::nanoseconds>(
                  clock_type::now() - t0)
                  .count();
          progress(o,
                   "%s: %s engine, %d threads, batch %d, context %d: loaded "
                   "in %.2f ms",
                   model.filename.c_str(), engine_name.c_str(), threads,
                   n_batch, n_ctx, double(load_ns) / 1e6);
          std::vector<float> logits(size_t((*eng)->n_vocab()));
          for (const test_spec &test : tests) {
            token_source tokens((*eng)->n_vocab(), model.bos);
            const std::string name = test.name();
            if (o.warmup) {
              auto ns = run_once(**eng, test, std::min(test.n_gen, 1), tokens,
                                 logits);
              if (!ns)
                return fail(ns.error().message());
              progress(o, "%s: warmup %.3f ms", name.c_str(),
                       double(*ns) / 1e6);
            }
            result_row row;
            row.model = &model;
            row.engine = engine_name;
            row.threads = threads;
            row.n_batch = n_batch;
            row.n_ctx = (*eng)->n_ctx();
            row.test = test;
            row.load_ns = load_ns;
            row.test_time = utc_now();
            for (int r = 0; r < o.repetitions; ++r) {
              auto ns = run_once(**eng, test, test.n_gen, tokens, logits);
              if (!ns)
                return fail(ns.error().message());
              row.samples_ns.push_back(*ns);
              progress(o, "%s: run %d/%d: %.3f ms (%.2f t/s)", name.c_str(),
                       r + 1, o.repetitions, double(*ns) / 1e6,
                       double(test.n_tokens()) * 1e9 /
                           double(std::max<int64_t>(*ns, 1)));
            }
            if (status st = out.row(row); !st)
              return fail(st.message());
          }
        }
  }
  if (status st = out.end(); !st)
    return fail(st.message());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  const int rc = bench_main(argc, argv);
  if (status st = rt::flush_stdout(); !st)
    return rc != 0 ? rc : fail(st.message());
  return rc;
}
