//===- HardwareProfile.h - hardware profiles as data ------------*- C++ -*-===//
//
// Hardware profiles are JSON files (profiles/*.json) with a source cited for
// every number. The files in profiles/ are compiled into the library, so
// `profile=apple-m4` works from any directory; a path to a .json file loads
// that file instead. Parsing checks every field and names the bad one.
//
//===----------------------------------------------------------------------===//

#ifndef SMEPILOT_ANALYSIS_HARDWAREPROFILE_H
#define SMEPILOT_ANALYSIS_HARDWAREPROFILE_H

#include "smepilot/Dialect/SMEPilot/IR/SMEPilot.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace mlir::smepilot {

/// Names of the profiles compiled in from profiles/*.json, sorted.
std::vector<std::string> getBuiltinProfileNames();

/// Parses the JSON text of a profile. `sourceName` names it in errors, which
/// read "<sourceName>: field '<path>': <problem>".
llvm::Expected<TargetAttr> parseHardwareProfile(MLIRContext *context,
                                                llvm::StringRef json,
                                                llvm::StringRef sourceName);

/// Loads a built-in profile by name, or a profile file when `nameOrPath` ends
/// in ".json" or names an existing file.
llvm::Expected<TargetAttr> loadHardwareProfile(MLIRContext *context,
                                               llvm::StringRef nameOrPath);

} // namespace mlir::smepilot

#endif // SMEPILOT_ANALYSIS_HARDWAREPROFILE_H
