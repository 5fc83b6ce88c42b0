// smepilot-run --explain's renderer (smepilot/Engine/Explain.h) on small
// hand-written explanations in the schema smepilot-export-explain writes.
#include "smepilot/Engine/Explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using smepilot::engine::explain_format;
using smepilot::engine::render_explain;
using ::testing::HasSubstr;
using ::testing::Not;

/// A model with a load table packing one weight K-major, and a 4-token
/// phase: a K-major copy of the activation (a layout change per call), a
/// matmul on the matrix unit reading both copies (the weight's from the
/// load table), an elementwise op on the vector cores and a copy with no
/// builder op.
const char *kModel =
    R"json({"version": 1, "target": "sme-sve", "profile": "apple-m4",
  "records": [{"layout_change": "k-major"},
              {"decision": 0, "id": 3, "loops": [4, 64, 32]},
              {"decision": 1, "id": 4, "loops": [4, -1]}],
  "decisions": [
    {"kind": "matmul", "shape_class": "gemm", "elem": "bf16", "mode": "sme",
     "sme_fraction": 1.0, "flops": 16384, "weight_bytes": 4096, "act_bytes": 768,
     "cpu_us": 3.0, "sme_us": 1.0, "collab_us": 1.5, "bound": "compute",
     "vectorization": "full", "reason": "roofline", "assumed": ""},
    {"kind": "generic", "shape_class": "elementwise", "elem": "f32", "mode": "cpu",
     "sme_fraction": 0.0, "flops": 512, "weight_bytes": 0, "act_bytes": 2048,
     "cpu_us": 0.5, "sme_us": -1.0, "collab_us": -1.0, "bound": "memory",
     "vectorization": "full", "reason": "roofline", "assumed": "d1=128"}],
  "tables": [
    {"name": "prefill_c4", "chunk": 4, "last_row_only": false, "load": false,
     "buffers": ["x", "pack0(w)", "tmp0", "tmp1", "out"],
     "dispatches": [
       {"name": "prefill_c4_d0:linalg.transpose", "mode": "cpu", "sme_share": 0,
        "reads": [0], "writes": [2], "records": [0]},
       {"name": "prefill_c4_d1:func.call", "mode": "sme", "sme_share": 65536,
        "reads": [2, 1], "writes": [3], "records": [1]},
       {"name": "prefill_c4_d2:scf.forall", "mode": "cpu", "sme_share": 0,
        "reads": [3], "writes": [3], "records": [2]},
       {"name": "prefill_c4_d3:memref.copy", "mode": "cpu", "sme_share": 0,
        "reads": [3], "writes": [4], "records": []}]},
    {"name": "load", "chunk": 0, "last_row_only": false, "load": true,
     "buffers": ["w", "pack0(w)"],
     "dispatches": [
       {"name": "load_d0:linalg.transpose", "mode": "cpu", "sme_share": 0,
        "reads": [0], "writes": [1], "records": [0]}]}]})json";

TEST(Explain, TextSaysWhatWasDecidedPerDispatchAndPhase) {
  auto text = render_explain(kModel, explain_format::text);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_THAT(
      *text,
      HasSubstr("SMEPilot explain: target sme-sve, profile apple-m4. Predicted "
                "times are the Roofline model's for that profile, not "
                "measurements.\n"));
  // 1.0 (matmul on SME) + 0.5 as chosen; 3.0 + 0.5 all on the vector cores.
  EXPECT_THAT(
      *text,
      HasSubstr(
          "phase prefill_c4: 4 tokens per call, 4 dispatches\n"
          "  predicted 1.50 us as chosen, 3.50 us all on the vector cores "
          "(2.33x)\n"
          "  layout changes: 1 per call, 0.25 per token; packed buffers "
          "reused from the load table: 1\n"
          "  dynamic sizes assumed by the predictions: d1=128\n"));
  EXPECT_THAT(*text, HasSubstr("layout:k-major"));
  EXPECT_THAT(*text, HasSubstr("-> tmp0 k-major\n"));
  EXPECT_THAT(
      *text,
      HasSubstr("matmul                   4x64x32        bf16       1.00      "
                "3.00            compute  tmp0 k-major, pack0(w) k-major at "
                "load\n"));
  EXPECT_THAT(
      *text,
      HasSubstr("elementwise              4x?            f32        0.50"));
  EXPECT_THAT(
      *text,
      HasSubstr("memref.copy              -              -             -"));
  EXPECT_THAT(*text,
              HasSubstr("load table load: 1 dispatches, run once at load\n"));
  EXPECT_THAT(*text, Not(HasSubstr("measured")));
}

TEST(Explain, MeasuredTimesGoBesideThePredictions) {
  smepilot::rt::engine::phase_profile p;
  p.phase = "prefill_c4";
  p.runs = 2;
  p.dispatches.push_back({"prefill_c4", 1, 4, 9000, 6000});
  p.dispatches.push_back({"prefill_c4", 2, 2, 1000, 800});
  auto text = render_explain(kModel, explain_format::text, {p});
  ASSERT_TRUE(text) << text.error().message();
  // Per run: 6000 ns / 2 and 800 ns / 2; the phase adds them up.
  EXPECT_THAT(*text, HasSubstr("(2.33x); measured 3.40 us per run (2 runs)\n"));
  EXPECT_THAT(*text, HasSubstr("1.00      3.00      3.00  compute"));
  EXPECT_THAT(*text, HasSubstr("0.50      0.50      0.40  memory"));

  auto json = render_explain(kModel, explain_format::json, {p});
  ASSERT_TRUE(json) << json.error().message();
  EXPECT_THAT(*json, HasSubstr("\"measured\": true"));
  EXPECT_THAT(*json, HasSubstr("\"calls\": 4,"));
  EXPECT_THAT(*json, HasSubstr("\"measured_us\": 3,"));
  EXPECT_THAT(*json, HasSubstr("\"runs\": 2,"));
}

TEST(Explain, AProducerWritingTheLayoutIsNoLayoutChange) {
  // The elementwise dispatch also records the layout change (a pack fused
  // into the op producing its input): it writes the layout in its own pass,
  // so the phase still copies one operand per call, d0's.
  std::string model = kModel;
  const std::string d2 = R"("reads": [3], "writes": [3], "records": [2]})";
  const size_t at = model.find(d2);
  ASSERT_NE(at, std::string::npos);
  model.replace(at, d2.size(),
                R"("reads": [3], "writes": [3], "records": [2, 0]})");
  auto json = render_explain(model, explain_format::json);
  ASSERT_TRUE(json) << json.error().message();
  EXPECT_THAT(*json, HasSubstr("\"layout_changes_per_call\": 1,"));
  EXPECT_THAT(*json, HasSubstr("\"layout_changes_per_token\": 0.25"));
}

TEST(Explain, JsonHasTheSameNumbers) {
  auto json = render_explain(kModel, explain_format::json);
  ASSERT_TRUE(json) << json.error().message();
  EXPECT_THAT(*json, HasSubstr("\"version\": 1"));
  EXPECT_THAT(*json, HasSubstr("\"measured\": false"));
  EXPECT_THAT(*json, HasSubstr("\"predicted_speedup\": 2.3333"));
  EXPECT_THAT(*json, HasSubstr("\"layout_changes_per_token\": 0.25"));
  EXPECT_THAT(*json, HasSubstr("\"packed_from_load\": 1"));
  EXPECT_THAT(*json,
              HasSubstr("\"buffer\": \"pack0(w)\",\n              \"layout\": "
                        "\"k-major at load\""));
  EXPECT_THAT(*json, HasSubstr("\"measured_us\": null"));
}

TEST(Explain, PredictedTimesPerDispatchForAdaptation) {
  // What run-time adaptation reports beside its measurements: per phase,
  // one time per dispatch, as compiled (0 for the copy, which has no op).
  auto predicted = smepilot::engine::predicted_dispatch_us(kModel);
  ASSERT_TRUE(predicted) << predicted.error().message();
  ASSERT_EQ(predicted->size(), 2u);
  EXPECT_EQ(predicted->at("prefill_c4"),
            (std::vector<double>{0.0, 1.0, 0.5, 0.0}));
  EXPECT_EQ(predicted->at("load").size(), 1u);
  EXPECT_FALSE(smepilot::engine::predicted_dispatch_us(R"({"version": 2})"));
}

TEST(Explain, BadDocumentsAreErrorsNamingWhatIsWrong) {
  auto error = [](const char *doc) {
    auto r = render_explain(doc, explain_format::text);
    return r ? std::string("(no error)") : r.error().message();
  };
  EXPECT_THAT(error(""), HasSubstr("carries no explanation"));
  EXPECT_THAT(error("{"), HasSubstr("is not valid JSON"));
  EXPECT_THAT(error("[]"), HasSubstr("explanation: expected an object"));
  EXPECT_THAT(error(R"({"version": 2})"),
              HasSubstr("schema version 2; this build reads version 1"));
  EXPECT_THAT(
      error(
          R"({"version": 1, "target": "host", "decisions": [], "records": []})"),
      HasSubstr("explanation.tables: expected an array"));
  EXPECT_THAT(error(R"({"version": 1, "target": "host", "decisions": [],
                        "records": [{"decision": 0, "loops": []}], "tables": []})"),
              HasSubstr("records[0].decision: expected a decision index"));
  EXPECT_THAT(
      error(R"({"version": 1, "target": "host", "decisions": [], "records": [],
                        "tables": [{"name": "t", "chunk": 1, "last_row_only": false,
                                    "load": false, "buffers": [],
                                    "dispatches": [{"name": "d", "mode": "cpu",
                                                    "sme_share": 0, "reads": [3],
                                                    "writes": [], "records": []}]}]})"),
      HasSubstr("tables[0].dispatches[0].reads: expected indices below 0"));
}

} // namespace
