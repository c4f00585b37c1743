#pragma once
#include <string>
#include <vector>
#include "core/kernels.h"

namespace dlcore {

// The kernel table of the ISA in use.
const KernelTable& cpu_kernels();
// "baseline", "avx2", "avx512": those this build and CPU support, best last.
std::vector<std::string> supported_cpu_isas();
void set_cpu_isa(const std::string& name);
// Runs the FMA peak probe of the ISA in use on all threads; returns the flops done.
double fma_probe(int64_t iters);

}  // namespace dlcore
