// What this process uses of the machine's memory, for logs and reports.
#pragma once

namespace gr {

// This process's peak resident memory (VmHWM of /proc/self/status) in MB;
// 0 where the kernel does not say.
double PeakRssMb();

}  // namespace gr
