//===- PassEnums.h - Enumerated options of smepilot passes ------*- C++ -*-===//
//
// The value types of the pass options declared in Passes.td that are
// enumerations. The options parse and print them by name (llvm::cl::values),
// so a bad value is rejected with the list of valid ones.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSENUMS_H
#define SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSENUMS_H

#include "llvm/ADT/StringRef.h"

#include <optional>

namespace mlir::smepilot {

/// smepilot-roofline-annotate's `force-mode`: `none` (the default) keeps the
/// model's choice; the others force that execution mode where possible.
enum class ForceMode { none, cpu, sme, collab };

/// The SME targets: which CPU features the object emitter enables.
enum class SMETarget {
  /// +sve,+sme,+bf16: runs under QEMU.
  sme_sve,
  /// +sme2 without +sve (Apple M4 style).
  sme2_nosve,
};

/// smepilot-tile-sme's `weight-type`: what an f32 contraction with a weight
/// operand computes in on SME (both operands rounded to it, f32
/// accumulation): f32 (no rounding), bf16 or f16 (the widening outer
/// products).
enum class SMEWeightType { f32, bf16, f16 };

/// The name of `type`, as in options ("f32", "bf16", "f16").
inline llvm::StringRef stringifySMEWeightType(SMEWeightType type) {
  switch (type) {
  case SMEWeightType::f32:
    return "f32";
  case SMEWeightType::bf16:
    return "bf16";
  case SMEWeightType::f16:
    return "f16";
  }
  return "";
}

/// The weight type named `name`, if there is one.
inline std::optional<SMEWeightType>
symbolizeSMEWeightType(llvm::StringRef name) {
  for (SMEWeightType type :
       {SMEWeightType::f32, SMEWeightType::bf16, SMEWeightType::f16})
    if (stringifySMEWeightType(type) == name)
      return type;
  return std::nullopt;
}

/// The module attribute naming the SME target (a string such as "sme-sve"),
/// written by smepilot-record-sme-target and read by the object emitter.
inline constexpr llvm::StringLiteral kSMETargetAttrName = "smepilot.sme_target";

/// The name of `target`, as in options and in `smepilot.sme_target`.
inline llvm::StringRef stringifySMETarget(SMETarget target) {
  switch (target) {
  case SMETarget::sme_sve:
    return "sme-sve";
  case SMETarget::sme2_nosve:
    return "sme2-nosve";
  }
  return "";
}

/// The target named `name`, if there is one.
inline std::optional<SMETarget> symbolizeSMETarget(llvm::StringRef name) {
  for (SMETarget target : {SMETarget::sme_sve, SMETarget::sme2_nosve})
    if (stringifySMETarget(target) == name)
      return target;
  return std::nullopt;
}

} // namespace mlir::smepilot

#endif // SMEPILOT_DIALECT_SMEPILOT_TRANSFORMS_PASSENUMS_H
